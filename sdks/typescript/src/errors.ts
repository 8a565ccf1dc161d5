/** Thrown for every non-2xx answer of the API, and for network failures once retries are spent. */
export class HookrelayError extends Error {
  constructor(
    message: string,
    /** the API's error code (validation_failed, not_found, …), or "network_error" */
    readonly code: string,
    /** HTTP status, 0 for a network failure */
    readonly status: number,
    readonly requestId: string | null,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'HookrelayError';
  }
}

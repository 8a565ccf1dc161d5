export type ErrorDetail = { path: string; message: string };

/** Every error the API answers with: thrown by handlers and services, mapped to the wire shape in one place. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const validationFailed = (message: string, details: ErrorDetail[] = []) =>
  new AppError(400, 'validation_failed', message, details);
export const unknownEventType = (name: string, path = 'type') =>
  new AppError(400, 'unknown_event_type', `unknown event type "${name}"`, [{ path, message: `"${name}" is not a live event type` }]);
export const unauthenticated = (message = 'a valid API key is required (Authorization: Bearer hrk_…)') =>
  new AppError(401, 'unauthenticated', message);
export const forbidden = (message = 'this API key may not do that') => new AppError(403, 'forbidden', message);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const payloadTooLarge = (limit: number) =>
  new AppError(413, 'payload_too_large', `request body is larger than ${limit} bytes`);
export const unsupportedMediaType = () =>
  new AppError(415, 'unsupported_media_type', 'request body must be JSON (content-type: application/json)');
export const rateLimited = (retryAfterS: number) =>
  new AppError(429, 'rate_limited', 'too many requests for this API key', [], { 'retry-after': String(retryAfterS) });

/** Request bodies being handled already use this process's budget for them: nothing was done, retry shortly. */
export const overloaded = () =>
  new AppError(503, 'overloaded', 'this server is handling too many large request bodies at once; the request had no effect, retry shortly', [], { 'retry-after': '1' });

/** Thrown when MongoDB or Temporal cannot be reached: the request had no effect and may be retried. */
export class UnavailableError extends AppError {
  constructor(dependency: 'mongodb' | 'temporal', cause?: unknown) {
    super(503, 'unavailable', `${dependency} is unreachable; the request had no effect, retry later`, [], { 'retry-after': '1' });
    this.cause = cause;
  }
}

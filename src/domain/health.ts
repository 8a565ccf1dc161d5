// Health of a webhook from its last 24 h of deliveries (rules in docs/architecture.md, "Health").
export type HealthStatus = 'healthy' | 'degraded' | 'failing' | 'unknown';

export type DeliveryOutcome = {
  /** true if the delivery ended delivered; false if its attempts so far all failed */
  succeeded: boolean;
  attempts: number;
};

/** `deliveries` newest first; `lastAttempts` the outcomes (true = 2xx) of the most recent attempts, newest first. */
export function healthOf(deliveries: DeliveryOutcome[], lastAttempts: boolean[]): HealthStatus {
  const attempted = deliveries.filter((d) => d.attempts > 0);
  if (attempted.length === 0) return 'unknown';
  const last10 = attempted.slice(0, 10);
  if (last10.length >= Math.min(10, attempted.length) && last10.every((d) => !d.succeeded) && lastAttempts.every((ok) => !ok)) {
    return 'failing';
  }
  const rate = attempted.filter((d) => d.succeeded).length / attempted.length;
  const last5 = lastAttempts.slice(0, 5);
  if (rate >= 0.95 || (last5.length === 5 && last5.every(Boolean))) return 'healthy';
  return 'degraded';
}

/** Token buckets by key: `ratePerS` tokens a second, up to `burst`. Used for API keys and webhook send rates. */
export class TokenBuckets {
  private buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes a token: 0 if granted, else how many ms until one is available. */
  take(key: string, ratePerS: number, burst = ratePerS, now = Date.now()): number {
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerS);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / ratePerS) * 1000);
  }
}

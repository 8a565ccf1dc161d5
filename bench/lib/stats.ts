// Small statistics helpers for the benchmark.

export type Percentiles = { n: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Nearest-rank percentiles of a list of numbers (ms); null for an empty list. */
export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    min: r(s[0]),
    p50: r(at(50)),
    p95: r(at(95)),
    p99: r(at(99)),
    max: r(s[s.length - 1]),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

export const round = (x: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counts per whole second since `t0` (all times in performance.now() ms), for a throughput timeline. */
export function perSecond(times: number[], t0: number, maxSeconds = 3600): number[] {
  const out: number[] = [];
  for (const t of times) {
    const i = Math.floor((t - t0) / 1000);
    if (i < 0 || i >= maxSeconds) continue;
    while (out.length <= i) out.push(0);
    out[i]++;
  }
  return out;
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// CPU and memory of processes from /proc (Linux): utime+stime from /proc/<pid>/stat, VmRSS from /proc/<pid>/status.

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // not fatal: 100 is the value on every common Linux
}

export type ProcSample = { cpuMs: number; rssMb: number };

/** CPU time (user+system, ms) and RSS (MB) of one process, or null if it is gone. */
export function readProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces: split after the last ')'. Then index 0 = field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return { cpuMs: (ticks * 1000) / clkTck, rssMb: m ? Number(m[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}

export type ProcUsage = { cpuMs: number; cpuPct: number; rssPeakMb: number; rssEndMb: number };

/**
 * Samples named processes every `intervalMs` (bounded: stops when stopped, or after maxSamples). A window
 * (`begin()` … `end()`) gives each process's CPU time and average CPU % (100 % = one core) and peak RSS.
 */
export class Sampler {
  private timer: NodeJS.Timeout | null = null;
  private samples = 0;
  private peaks = new Map<string, number>();
  private last = new Map<string, ProcSample>();

  constructor(
    private pids: Map<string, number>,
    private intervalMs = 500,
    private maxSamples = 20_000,
  ) {}

  add(name: string, pid: number) {
    this.pids.set(name, pid);
  }

  remove(name: string) {
    this.pids.delete(name);
    this.last.delete(name);
    this.peaks.delete(name);
  }

  start() {
    this.tick();
    this.timer = setInterval(() => {
      if (++this.samples > this.maxSamples) return this.stop();
      this.tick();
    }, this.intervalMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick() {
    for (const [name, pid] of this.pids) {
      const s = readProc(pid);
      if (!s) continue;
      this.last.set(name, s);
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, s.rssMb));
    }
  }

  /** Starts a measurement window; the returned function ends it and reports per process. */
  begin(): () => { wallMs: number; procs: Record<string, ProcUsage> } {
    this.tick();
    const t0 = performance.now();
    const start = new Map<string, ProcSample>();
    for (const [name, pid] of this.pids) {
      const s = readProc(pid);
      if (s) start.set(name, s);
    }
    for (const name of this.pids.keys()) this.peaks.set(name, start.get(name)?.rssMb ?? 0);
    return () => {
      this.tick();
      const wallMs = performance.now() - t0;
      const procs: Record<string, ProcUsage> = {};
      for (const [name, pid] of this.pids) {
        const a = start.get(name);
        const b = readProc(pid) ?? this.last.get(name);
        if (!a || !b) continue;
        const cpuMs = b.cpuMs - a.cpuMs;
        procs[name] = {
          cpuMs: Math.round(cpuMs),
          cpuPct: Math.round((cpuMs / wallMs) * 1000) / 10,
          rssPeakMb: Math.round(Math.max(this.peaks.get(name) ?? 0, b.rssMb)),
          rssEndMb: Math.round(b.rssMb),
        };
      }
      return { wallMs: Math.round(wallMs), procs };
    };
  }
}

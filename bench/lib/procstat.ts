import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// CPU and memory of processes from /proc (Linux): utime+stime from /proc/<pid>/stat, VmRSS from /proc/<pid>/status.

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // not fatal: 100 is the value on every common Linux
}

export type ProcSample = { cpuMs: number; rssMb: number };

/** Processes measured with their descendants: PostgreSQL serves each connection from a child process. */
const TREE_PROCS = new Set(['postgresql']);

type Stat = { ppid: number; ticks: number; childTicks: number };

function readStat(pid: number): Stat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces: split after the last ')'. Then index 0 = field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), childTicks: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return null;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Live descendants of pid (PostgreSQL serves every connection from a child process of the postmaster). */
function descendants(pid: number, exclude: ReadonlySet<number>): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readStat(Number(e));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      // A descendant measured on its own (the bench spawns the whole stack) is not counted twice.
      if (exclude.has(c)) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * CPU time (user+system, ms) and RSS (MB) of one process, or null if it is gone. With `tree` (a server that
 * works in child processes, like PostgreSQL), its descendants too: the time of children it has already reaped,
 * and the time and memory of those still running (shared memory is counted once per process).
 */
export function readProc(pid: number, tree = false, exclude: ReadonlySet<number> = new Set()): ProcSample | null {
  const root = readStat(pid);
  if (!root) return null;
  if (!tree) return { cpuMs: (root.ticks * 1000) / clkTck, rssMb: rssMb(pid) };
  let ticks = root.ticks + root.childTicks;
  let rss = rssMb(pid);
  for (const c of descendants(pid, exclude)) {
    const s = readStat(c);
    if (!s) continue;
    ticks += s.ticks + s.childTicks;
    rss += rssMb(c);
  }
  return { cpuMs: (ticks * 1000) / clkTck, rssMb: rss };
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
    const tracked = new Set(this.pids.values());
    for (const [name, pid] of this.pids) {
      const s = readProc(pid, TREE_PROCS.has(name), tracked);
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
    const tracked = new Set(this.pids.values());
    for (const [name, pid] of this.pids) {
      const s = readProc(pid, TREE_PROCS.has(name), tracked);
      if (s) start.set(name, s);
    }
    for (const name of this.pids.keys()) this.peaks.set(name, start.get(name)?.rssMb ?? 0);
    return () => {
      this.tick();
      const wallMs = performance.now() - t0;
      const procs: Record<string, ProcUsage> = {};
      for (const [name, pid] of this.pids) {
        const a = start.get(name);
        const b = readProc(pid, TREE_PROCS.has(name), new Set(this.pids.values())) ?? this.last.get(name);
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

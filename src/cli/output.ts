import type { Command } from 'commander';
import { HookrelayError } from '../../sdks/typescript/src/index.js';

export function print(program: Command, json: unknown, text: string) {
  console.log(program.opts().json ? JSON.stringify(json, null, 2) : text);
}

export function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Errors print as `code: message (request_id)` and exit 1. */
export function reportError(err: unknown): never {
  if (err instanceof HookrelayError) {
    const details = err.details.map((d) => `\n  ${d.path}: ${d.message}`).join('');
    fail(`${err.code}: ${err.message}${err.requestId ? ` (${err.requestId})` : ''}${details}`);
  }
  fail(`error: ${(err as Error).message}`);
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

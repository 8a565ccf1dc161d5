// The `direct` baseline: one Node process that signs (src/domain/signature.ts) and POSTs the same payloads the
// worker would send, to the same kind of receivers, with undici keep-alive — no Temporal, no MongoDB. Run as a
// child of bench/run.ts, configured by env; reports over IPC. Bounded by count and by time.
import { Agent, request } from 'undici';
import { signatureHeader, generateSecret } from '../src/domain/signature.js';
import { newId } from '../src/domain/ids.js';
import { payload } from './lib/api.js';

const urls = (process.env.DIRECT_URLS ?? '').split(',').filter(Boolean);
const count = Number(process.env.DIRECT_COUNT ?? 1000);
const concurrency = Number(process.env.DIRECT_CONCURRENCY ?? 32);
const durationMs = Number(process.env.DIRECT_DURATION_MS ?? 10_000);

async function main() {
  if (urls.length === 0) throw new Error('DIRECT_URLS is empty');
  const secret = generateSecret();
  // The worker's sender (activities/http.ts) uses the same pool settings.
  const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connections: 32 });
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const cpu0 = process.cpuUsage();
  const one = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const id = newId('evt');
      const timestamp = new Date();
      const body = JSON.stringify({ id, type: 'bench.direct', timestamp: timestamp.toISOString(), data: payload('direct', i) });
      const ts = Math.floor(timestamp.getTime() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'hookrelay-bench-direct',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signatureHeader([secret], id, ts, body),
      };
      try {
        const res = await request(urls[i % urls.length], { method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.timeout(15_000) });
        await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, one));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  await agent.close();
  const result = { sent: next, ok, failed, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
  else {
    console.log(JSON.stringify(result));
    process.exit(0);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

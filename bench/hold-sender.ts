// The `hold` measurement (issue 22): what 2,000 requests waiting on silent endpoints cost a worker process. One
// Node process with the worker's own sender (activities/http.ts, its undici pool per origin) and fairness gate
// sends HOLD_COUNT signed POSTs to hanging loopback endpoints (HOLD_URLS, one origin each) and holds them for
// HOLD_MS; the parent samples this process's RSS and CPU before and while they wait. Reports over IPC.
import { createSender } from '../activities/http.js';
import { FairGate } from '../src/domain/fair-gate.js';
import { signatureHeader, generateSecret } from '../src/domain/signature.js';
import { newId } from '../src/domain/ids.js';
import { payload } from './lib/api.js';

const urls = (process.env.HOLD_URLS ?? '').split(',').filter(Boolean);
const count = Number(process.env.HOLD_COUNT ?? 2000);
const holdMs = Number(process.env.HOLD_MS ?? 20_000);

async function main() {
  const sender = createSender({ allowPrivateTargets: true });
  // Capacity for every request in one application's share (capacity / 2); one gate endpoint per request, so each is
  // admitted (an endpoint starts with 4 in flight): the gate's bookkeeping is part of what is measured.
  const gate = new FairGate({ capacity: 2 * count + 2 });
  const secret = generateSecret();
  // Idle first: the parent samples the process as it is before any request.
  process.send!({ type: 'idle' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const cpu0 = process.cpuUsage();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const url = urls[i % urls.length];
    const ticket = gate.admit({ endpoint: `${url}#${i}`, app: 'hold', max: 1000 }, `d${i}`);
    if (!ticket.ok) throw new Error(`gate refused ${i}: ${ticket.reason}`);
    const id = newId('evt');
    const body = JSON.stringify({ id, type: 'bench.hold', timestamp: new Date().toISOString(), data: payload('hold', i) });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([secret], id, ts, body) };
    pending.push(sender.send(url, headers, body, holdMs, null).then((r) => gate.release(ticket.ticket, r.error === 'timeout' ? 'timeout' : 'answered', true)));
  }
  const startCpu = process.cpuUsage(cpu0);
  process.send!({ type: 'sent', cpuMs: (startCpu.user + startCpu.system) / 1000, inFlight: gate.stats().inFlight });
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  process.send!({ type: 'result', cpuMs: (cpu.user + cpu.system) / 1000, count });
  await sender.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

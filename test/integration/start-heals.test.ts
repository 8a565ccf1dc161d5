import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually } from '../support/api.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
// @ts-expect-error plain JS module shared with npm start
import { freePort, root } from '../../scripts/stack.js';

// `npm start` heals: a process of the stack that dies is started again; only Ctrl-C stops everything.
describe('npm start (scripts/start.js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-start-'));
  let start: ChildProcess;
  let pids: Record<string, number>;
  let apiUrl: string;
  let rcv: Receiver;

  beforeAll(async () => {
    const [api, temporal, ui, mongo] = [await freePort(), await freePort(), await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${api}`;
    start = fork(join(root, 'scripts/start.js'), [], {
      env: { ...process.env, HOOKRELAY_DATA_DIR: dir, PORT: String(api), TEMPORAL_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), FERRETDB_PORT: String(mongo) },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    pids = await new Promise((resolve, reject) => {
      start.on('message', (m: { type?: string; pids?: Record<string, number> }) => m.type === 'running' && resolve(m.pids!));
      start.once('exit', (code) => reject(new Error(`npm start exited with ${code}; see ${dir}/logs`)));
    });
    rcv = await startReceiver();
  }, 180_000);

  afterAll(async () => {
    await rcv?.close();
    if (start && start.exitCode === null) {
      const exited = new Promise((r) => start.once('exit', r));
      start.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('restarts the all-in-one process (API and worker) after kill -9, and delivers again', async () => {
    const admin = client(readFileSync(join(dir, 'admin-key'), 'utf8').trim(), apiUrl);
    await admin.post('/v1/event-types', { name: 'heal.check' });
    expect((await admin.post('/v1/webhooks', { url: rcv.url, events: ['heal.check'] })).status).toBe(201);

    // npm start runs the API and the worker in one process (src/all-in-one.ts).
    expect(Object.keys(pids).sort()).toEqual(['ferretdb', 'hookrelay', 'temporal']);
    process.kill(pids.hookrelay, 'SIGKILL');
    // The API comes back (its port answers again) …
    await eventually(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, 60_000, 250);
    // … and so does the worker: an event published now is delivered.
    const pub = await eventually(async () => {
      const r = await admin.post('/v1/events', { type: 'heal.check', data: {} });
      return r.status === 202 && r;
    }, 30_000, 250);
    await rcv.waitFor(1, 60_000);
    expect(rcv.received[0].headers['webhook-id']).toBe(pub.body.id);
    // Once its worker has joined (the API answers first; a publish before that starts over the plain client
    // connection), the all-in-one process starts delivery workflows eagerly, over its worker's own connection.
    await eventually(async () => {
      const r = await admin.post('/v1/events', { type: 'heal.check', data: {} });
      const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
      return r.status === 202 && Number(/hookrelay_workflow_starts_total\{eager="true"\} (\d+)/.exec(metrics)?.[1] ?? 0) >= 1;
    }, 30_000, 500);
    const log = readFileSync(join(dir, 'logs', 'hookrelay.log'), 'utf8');
    expect(log).not.toMatch(/hrk_[A-Za-z0-9]{20,}/);
    expect(start.exitCode).toBeNull();
  }, 120_000);
});

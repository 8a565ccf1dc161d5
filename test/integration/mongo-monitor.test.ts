import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { MongoClient } from 'mongodb';
import { openStore, type Store } from '../../src/storage/mongo.js';
import { createSealer } from '../../src/domain/seal.js';
import { eventually, stack } from '../support/api.js';

// The driver's server monitor hang (src/storage/mongo.ts, openStore): a pooled connection fails with an operation in
// flight while the monitor's own socket died in the same event-loop pass and has not emitted 'close' yet. A
// MongoDB or FerretDB killed with SIGKILL does that to a busy client now and then; here both client sockets are
// destroyed in one tick, monitor first, which reproduces it every time (the driver's internals are reached only to
// find those two sockets). With the driver's own heartbeat settings the server then stays unknown for ever.

type Internals = { topology: { s: { servers: Map<string, { monitor: { connection: { socket: { destroy(): void } } | null }; pool: { checkedOut: Set<{ socket: { destroy(): void } }> } }> } } };

const stores: Store[] = [];
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});

async function open(opts: Parameters<typeof openStore>[3] = {}, url = stack().mongoUrl) {
  const store = await openStore(url, stack().mongoDb, createSealer([]), opts);
  stores.push(store);
  await store.ping();
  return store;
}

/** Kills the monitor's socket and a busy pool socket in one tick (what a server's SIGKILL can do). */
async function killBothSockets(client: MongoClient, coll: string) {
  const server = [...(client as unknown as Internals).topology.s.servers.values()][0];
  const monitorSocket = server.monitor.connection!.socket;
  const started = new Promise((r) => client.once('commandStarted', r));
  const op = client.db(stack().mongoDb).collection(coll).findOne({ k: 1 }).catch((e: Error) => e);
  await started;
  for (let i = 0; i < 20; i++) await null; // the command is on its socket, no I/O has run yet
  const pooled = [...server.pool.checkedOut][0];
  monitorSocket.destroy();
  pooled.socket.destroy();
  return op;
}

/** Milliseconds until a read by _id succeeds again (null: not within `capMs`). */
async function recovery(store: Store, capMs: number): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < capMs) {
    const ok = await store.c.events.findOne({ _id: 'absent' as never }).then(() => true, () => false);
    if (ok) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

describe('MongoDB server monitor stuck on a dead socket', () => {
  it('with the driver’s defaults the reproduction hangs; the watchdog reconnects the client', async () => {
    const warned: string[] = [];
    // The driver's own heartbeat settings (the race is open) and a short watchdog.
    const store = await open({ driver: { heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 500 } as never, heartbeatStuckMs: 4000, log: { warn: (_o, msg) => warned.push(msg) } });
    await new Promise((r) => setTimeout(r, 1000)); // the monitor idle for longer than its minimum interval
    const killedAt = Date.now();
    await killBothSockets(store.client, 'monitor_test');
    // Stuck until the watchdog's 4 s are up (the monitor's check never ends), then reconnected.
    expect(await recovery(store, 20_000)).not.toBeNull();
    expect(Date.now() - killedAt).toBeGreaterThan(4000);
    expect(warned).toEqual(['MongoDB server monitor stuck; reconnecting the client']);
  }, 40_000);

  it('with openStore’s heartbeat settings the same reproduction recovers within seconds, without the watchdog', async () => {
    const store = await open({ heartbeatStuckMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1000));
    await killBothSockets(store.client, 'monitor_test');
    // Within 10 s, where the watchdog would wait 60 s: the heartbeat settings alone.
    expect(await recovery(store, 10_000)).not.toBeNull();
  }, 30_000);

  it('a reconnect that fails (the database still unreachable) is tried again until one works', async () => {
    // The client reaches FerretDB through a forwarder this test closes and opens again on the same port.
    const target = new URL(stack().mongoUrl);
    const sockets = new Set<Socket>();
    let server: Server | null = null;
    const listen = (port: number) =>
      new Promise<number>((ok) => {
        server = createServer((s) => {
          const up = connect(Number(target.port), target.hostname);
          sockets.add(s).add(up);
          s.pipe(up).pipe(s);
          s.on('error', () => up.destroy());
          up.on('error', () => s.destroy());
        });
        server.listen(port, '127.0.0.1', () => ok((server!.address() as { port: number }).port));
      });
    const down = () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      return new Promise((ok) => server!.close(ok));
    };
    const port = await listen(0);
    const warned: string[] = [];
    const store = await open({ driver: { heartbeatFrequencyMS: 10_000, minHeartbeatFrequencyMS: 500 } as never, heartbeatStuckMs: 3000, log: { warn: (_o, msg) => warned.push(msg) } }, `mongodb://127.0.0.1:${port}/`);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await killBothSockets(store.client, 'monitor_test');
      await down(); // stuck, and the database unreachable when the watchdog reconnects
      await eventually(async () => warned.includes('MongoDB client not reconnected yet; the watchdog tries again'), 20_000, 100);
      await listen(port);
      expect(await recovery(store, 20_000)).not.toBeNull();
      expect(warned[0]).toBe('MongoDB server monitor stuck; reconnecting the client');
    } finally {
      await down();
    }
  }, 60_000);
});

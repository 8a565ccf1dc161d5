import { createServer, type IncomingMessage, type Server } from 'node:http';

export type Received = { headers: IncomingMessage['headers']; body: string; at: number; path: string };

/** What the receiver answers for the n-th request (0-based): a status, optional headers, optional delay. */
export type Responder = (n: number, req: Received) => { status: number; headers?: Record<string, string>; delayMs?: number; until?: Promise<unknown>; body?: string };

/** A real HTTP receiver on loopback, port 0: records every request, answers as told. */
export async function startReceiver(respond: Responder = () => ({ status: 200 })) {
  const received: Received[] = [];
  let responder = respond;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), path: req.url ?? '/' };
      const n = received.length;
      received.push(r);
      const answer = responder(n, r);
      if (answer.delayMs) await new Promise((ok) => setTimeout(ok, answer.delayMs));
      if (answer.until) await answer.until.catch(() => {});
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
      res.end(answer.body ?? (answer.status < 300 ? 'ok' : 'nope'));
      for (const w of [...waiters]) {
        if (received.length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    setResponder(r: Responder) {
      responder = r;
    },
    /** Resolves once `count` requests have arrived; rejects after timeoutMs. */
    waitFor(count: number, timeoutMs = 30_000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`receiver got ${received.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ count, resolve: () => { clearTimeout(t); resolve(); } });
      });
    },
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

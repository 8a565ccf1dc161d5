import { createServer, type Server } from 'node:http';

/**
 * Webhook receivers for the benchmark: real node:http servers on 127.0.0.1, port 0, one per webhook. Each
 * records the first arrival time (performance.now()) per webhook-id and answers 200, or what `failing` says; a
 * hanging one never answers, a slow one answers after `delayMs`.
 */
export type ReceiverOpts = {
  /** answer 500 while this returns true (evaluated per request) */
  failing?: () => boolean;
  /** never answer: the request is read and left open until the sender gives up (a hanging endpoint) */
  hang?: boolean;
  /** answer only after this many ms (a slow endpoint) */
  delayMs?: number;
  /** every request, first or repeated (a retry of the same webhook-id), at its arrival */
  onRequest?: (id: string, at: number, repeat: boolean) => void;
};

export class Receiver {
  readonly arrivals = new Map<string, number>();
  requests = 0;
  duplicates = 0;
  answered5xx = 0;
  /** requests received and not yet answered or given up by the sender (hanging and slow endpoints) */
  inFlight = 0;
  /** first-arrival times of 2xx-answered ids only (what counts as delivered) */
  readonly delivered = new Map<string, number>();
  url = '';
  private server: Server;
  private timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly tag: string,
    private opts: ReceiverOpts = {},
    private onDelivered?: (id: string, at: number) => void,
  ) {
    this.server = createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        const at = performance.now();
        this.requests++;
        const id = String(req.headers['webhook-id'] ?? '');
        const repeat = this.arrivals.has(id);
        if (repeat) this.duplicates++;
        else this.arrivals.set(id, at);
        this.opts.onRequest?.(id, at, repeat);
        if (this.opts.hang || this.opts.delayMs) {
          this.inFlight++;
          res.once('close', () => this.inFlight--);
        }
        if (this.opts.hang) return;
        const answer = () => {
          if (this.opts.failing?.()) {
            this.answered5xx++;
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('nope');
            return;
          }
          if (!this.delivered.has(id)) {
            this.delivered.set(id, at);
            this.onDelivered?.(id, at);
          }
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ok');
        };
        if (!this.opts.delayMs) return answer();
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!res.destroyed) answer();
        }, this.opts.delayMs);
        this.timers.add(t);
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  async listen() {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/hook/${this.tag}`;
    return this;
  }

  close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return new Promise<void>((ok) => {
      this.server.closeAllConnections();
      this.server.close(() => ok());
    });
  }
}

/** A set of receivers with a shared delivered counter (what wait loops poll). */
export class ReceiverSet {
  readonly list: Receiver[] = [];
  deliveredTotal = 0;
  readonly deliveredTimes: number[] = [];

  async add(count: number, prefix: string, opts: (i: number) => ReceiverOpts = () => ({})) {
    for (let i = 0; i < count; i++) {
      const r = new Receiver(`${prefix}${i}`, opts(i), (_id, at) => {
        this.deliveredTotal++;
        if (this.deliveredTimes.length < 2_000_000) this.deliveredTimes.push(at);
      });
      this.list.push(await r.listen());
    }
    return this.list.slice(-count);
  }

  get requests() {
    return this.list.reduce((a, r) => a + r.requests, 0);
  }

  get duplicates() {
    return this.list.reduce((a, r) => a + r.duplicates, 0);
  }

  get inFlight() {
    return this.list.reduce((a, r) => a + r.inFlight, 0);
  }

  async close() {
    await Promise.all(this.list.map((r) => r.close()));
  }
}

import { createServer, type Server } from 'node:http';

/**
 * Webhook receivers for the benchmark: real node:http servers on 127.0.0.1, port 0, one per webhook. Each
 * records the first arrival time (performance.now()) per webhook-id and answers 200, or what `failing` says.
 */
export type ReceiverOpts = {
  /** answer 500 while this returns true (evaluated per request) */
  failing?: () => boolean;
};

export class Receiver {
  readonly arrivals = new Map<string, number>();
  requests = 0;
  duplicates = 0;
  answered5xx = 0;
  /** first-arrival times of 2xx-answered ids only (what counts as delivered) */
  readonly delivered = new Map<string, number>();
  url = '';
  private server: Server;

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
        if (this.arrivals.has(id)) this.duplicates++;
        else this.arrivals.set(id, at);
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

  async close() {
    await Promise.all(this.list.map((r) => r.close()));
  }
}

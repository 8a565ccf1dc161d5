import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A MongoDB-wire proxy that can wedge the way FerretDB did under load (issue 23): the server monitor's `hello`
 * checks are still answered, so the driver sees a healthy server, while every other command is held and never
 * answered — FerretDB with its PostgreSQL pool exhausted answered `hello` (no PostgreSQL needed) and left every
 * find, update and even `ping` waiting in `pgxpool.Acquire`. `wedge()` starts holding, `release()` lets what was
 * held through in order and forwards again.
 */
export async function startWedgeProxy(target: { host?: string; port: number }) {
  let wedged = false;
  const held = new Set<() => void>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.pipe(client);
    // Client → server: whole messages (4-byte little-endian length first); each goes through unless wedged and
    // not a monitor check. Messages of one connection keep their order: one held holds those after it too.
    let buf = Buffer.alloc(0);
    let queue: Buffer[] = [];
    let blocked = false;
    const flush = () => {
      while (queue.length && !blocked) {
        const msg = queue[0];
        if (wedged && !isMonitorCheck(msg)) {
          blocked = true;
          const go = () => {
            held.delete(go);
            blocked = false;
            flush();
          };
          held.add(go);
          return;
        }
        queue.shift();
        upstream.write(msg);
      }
    };
    client.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readInt32LE(0);
        if (buf.length < len) break;
        queue.push(buf.subarray(0, len));
        buf = buf.subarray(len);
      }
      flush();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `mongodb://127.0.0.1:${port}/`,
    wedge() {
      wedged = true;
    },
    release() {
      wedged = false;
      for (const go of [...held]) go();
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** OP_MSG (2013) or OP_QUERY (2004) whose command is hello / isMaster: the server monitor's heartbeat and handshakes. */
function isMonitorCheck(msg: Buffer): boolean {
  const opCode = msg.readInt32LE(12);
  try {
    if (opCode === 2013) {
      // flagBits (4), then sections; kind 0 = the command document.
      let off = 20;
      while (off < msg.length) {
        const kind = msg[off];
        off += 1;
        if (kind === 0) {
          return isHello(firstKey(msg, off));
        }
        off += msg.readInt32LE(off);
      }
      return false;
    }
    if (opCode === 2004) {
      // flags (4), cstring collection name, skip (4), return (4), query document.
      const nameEnd = msg.indexOf(0, 20);
      const off = nameEnd + 1 + 8;
      return isHello(firstKey(msg, off));
    }
  } catch {
    return false;
  }
  return false;
}

/** A BSON document's first key: after its int32 size and the first element's type byte, a C string. */
function firstKey(msg: Buffer, docOffset: number): string {
  const start = docOffset + 5;
  return msg.toString('utf8', start, msg.indexOf(0, start));
}

const isHello = (cmd: string) => cmd.toLowerCase() === 'hello' || cmd.toLowerCase() === 'ismaster';

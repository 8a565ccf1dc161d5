import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { classifyProxyStatus, createSender, proxyStatus } from '../../activities/http.js';
import { createEgressHealth } from '../../activities/egress.js';

/** An HTTP proxy that answers every CONNECT with `status` (a refusal), on loopback. */
async function refusingProxy(status: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (_req, socket) => socket.end(`HTTP/1.1 ${status} Nope\r\n\r\n`));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

// Issue 24, item 2: whose failure an attempt's failure is — the endpoint's, or hookrelay's own path's.
describe('egress path failures', () => {
  it('reads a proxy\'s refusal of CONNECT: 502/503/504 are the target\'s, anything else the proxy\'s', () => {
    expect(proxyStatus(new Error('Proxy response (407) !== 200 when HTTP Tunneling'))).toBe(407);
    expect(proxyStatus({ message: 'x', cause: { message: 'Proxy response (502) !== 200 when HTTP Tunneling' } })).toBe(502);
    expect(proxyStatus(new Error('connect ECONNREFUSED'))).toBeNull();
    expect(classifyProxyStatus(502)).toBe('connection_refused');
    expect(classifyProxyStatus(503)).toBe('connection_refused');
    expect(classifyProxyStatus(504)).toBe('timeout');
    for (const s of [400, 403, 405, 407, 500]) expect(classifyProxyStatus(s)).toBe('proxy_unavailable');
  });

  it('a proxy that is down or refuses to tunnel is proxy_unavailable; a target the proxy cannot reach is the endpoint\'s', async () => {
    const egress = createEgressHealth();
    const sender = createSender({ allowPrivateTargets: true, egress });
    const target = `http://127.0.0.1:${await closedPort()}/hook`;
    const dead = `http://127.0.0.1:${await closedPort()}`;
    expect((await sender.send(target, {}, '{}', 3000, dead)).error).toBe('proxy_unavailable');
    expect(egress.snapshot().proxies).toContainEqual(expect.objectContaining({ proxy: dead, status: 'unavailable', failures: 1 }));
    // Without a proxy, the same target's refusal is the endpoint's.
    expect((await sender.send(target, {}, '{}', 3000, null)).error).toBe('connection_refused');
    for (const [status, error] of [[407, 'proxy_unavailable'], [502, 'connection_refused'], [504, 'timeout']] as const) {
      const p = await refusingProxy(status);
      try {
        expect((await sender.send(target, {}, '{}', 3000, p.url)).error, String(status)).toBe(error);
      } finally {
        await p.close();
      }
    }
    await sender.close();
  });

  it('tracks each path: one try a second while it fails, cleared by the first attempt that gets past it, no credentials shown', () => {
    let now = 1_000_000;
    const egress = createEgressHealth(() => now);
    const proxy = 'http://user:secret@proxy.internal:3128';
    expect(egress.refusal(proxy, true)).toBeNull();
    egress.failed('proxy_unavailable', proxy, 'ECONNREFUSED');
    expect(egress.refusal(proxy, false)).toBe('proxy_unavailable');
    now += 1000;
    expect(egress.refusal(proxy, false)).toBeNull(); // this second's try
    expect(egress.refusal(proxy, false)).toBe('proxy_unavailable');
    expect(egress.unavailable()).toEqual({ proxy: 1, resolver: 0 });
    const snap = egress.snapshot();
    expect(snap.status).toBe('degraded');
    expect(JSON.stringify(snap)).not.toContain('secret');
    expect(snap.proxies[0]).toMatchObject({ proxy: 'http://proxy.internal:3128', status: 'unavailable', failures: 1, last_error: 'ECONNREFUSED' });
    const delay = egress.retryDelayMs('proxy_unavailable', proxy);
    expect(delay).toBeGreaterThanOrEqual(4000);
    expect(delay).toBeLessThanOrEqual(6000);
    egress.ok(proxy, false);
    expect(egress.refusal(proxy, false)).toBeNull();
    egress.failed('resolver_unavailable', null, 'EAI_AGAIN');
    expect(egress.refusal(null, true)).toBe('resolver_unavailable');
    expect(egress.refusal(null, false)).toBeNull(); // an IP literal needs no resolver
    egress.ok(null, true);
    expect(egress.snapshot()).toMatchObject({ status: 'ok', resolver: { status: 'ok' } });
    expect(egress.counts()).toEqual({ proxy_unavailable: 1, resolver_unavailable: 1 });
  });

  it('a name the resolver does not answer for is resolver_unavailable only when the resolver itself is down', async () => {
    // getaddrinfo's EAI_AGAIN cannot be produced on demand here: the probe decides, and is asked only then.
    const asked: string[] = [];
    const sender = createSender({ allowPrivateTargets: true, probes: { resolverDown: async (host) => (asked.push(host), true) } });
    const r = await sender.send('http://does-not-exist.invalid/hook', {}, '{}', 3000, null);
    // .invalid never exists (RFC 6761): NXDOMAIN is the customer's; a resolver that cannot be reached is ours.
    if (asked.length === 0) expect(r.error).toBe('dns');
    else expect(r.error).toBe('resolver_unavailable');
    await sender.close();
  });
});

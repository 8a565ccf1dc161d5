import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll, Resolver } from 'node:dns/promises';
import { connect as netConnect, isIP } from 'node:net';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { isPublicAddress } from '../src/domain/addresses.js';
import type { AttemptError } from '../src/storage/types.js';
import { createEgressHealth, type EgressHealth } from './egress.js';

export type SendResult = {
  statusCode: number | null;
  durationMs: number;
  error: AttemptError | null;
  responseBody: string | null;
  retryAfter: string | null;
};

const RESPONSE_KEEP = 1024;
const RESPONSE_DRAIN = 64 * 1024;

class BlockedAddressError extends Error {
  code = 'EHOOKRELAY_BLOCKED';
}

/** The target's own name did not resolve (through a proxy, the worker resolves it): the customer's, or the resolver's. */
class TargetLookupError extends Error {
  constructor(readonly cause: unknown) {
    super((cause as Error).message);
  }
}

/** The status an HTTP proxy answered a CONNECT with when it did not open the tunnel (undici: "Proxy response (407) !== 200"). */
export function proxyStatus(err: unknown): number | null {
  let e = err as { message?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e) {
    const m = /Proxy response \((\d{3})\)/.exec(e.message ?? '');
    if (m) return Number(m[1]);
  }
  return null;
}

/**
 * What a proxy's refusal of a CONNECT means: 502 and 503 are its way of saying the target refused or could not be
 * reached (Squid answers 503 for a refused connection), 504 that the target did not answer: the customer's. Any
 * other answer (403, 407, 405, 500, …) is the proxy refusing hookrelay: hookrelay's.
 */
export function classifyProxyStatus(status: number): AttemptError {
  if (status === 502 || status === 503) return 'connection_refused';
  if (status === 504) return 'timeout';
  return 'proxy_unavailable';
}

/** getaddrinfo's "try again" and "non-recoverable failure": the resolver did not answer (NXDOMAIN is ENOTFOUND). */
const RESOLVER_CODES = /EAI_AGAIN|EAI_FAIL/;
/** c-ares' "could not contact the DNS servers", "timed out", "refused the query": the resolver is down for us. */
const RESOLVER_DOWN = new Set(['ECONNREFUSED', 'ETIMEOUT', 'EREFUSED', 'ECONNRESET']);
const codesOf = (err: unknown) => {
  const out: string[] = [];
  let e = err as { code?: string; name?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e) out.push(`${e.code ?? ''} ${e.name ?? ''}`);
  return out.join(' ');
};

/**
 * Sends signed POSTs. One keep-alive pool per origin (undici Agent). The SSRF guard sits in the connection's
 * DNS lookup, so the address that was checked is the address connected to; IP-literal hosts are checked
 * before the request since they skip the lookup.
 */
export function createSender(opts: {
  allowPrivateTargets: boolean; proxyUrl?: string | null; connectTimeoutMs?: number;
  /** hookrelay's own path (proxy, resolver): made here when absent. */
  egress?: EgressHealth;
  /** Probes of that path (tests replace them): is the proxy accepting connections, is the resolver down for a name. */
  probes?: { proxyReachable?: (proxyUrl: string) => Promise<boolean>; resolverDown?: (host: string) => Promise<boolean> };
}) {
  const egress = opts.egress ?? createEgressHealth();
  const guardedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      egress.ok(null, true);
      if (!opts.allowPrivateTargets) {
        const bad = addresses.find((a) => !isPublicAddress(a.address));
        if (bad) return callback(new BlockedAddressError(`${hostname} resolves to a non-public address`) as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };

  const agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connections: 32,
    // Connecting (TCP + TLS) has its own, shorter timeout than the attempt's: an endpoint that does not accept
    // connections is known as such in seconds.
    connect: { lookup: guardedLookup as never, timeout: opts.connectTimeoutMs ?? 5000 },
  });

  /**
   * Through an egress proxy (HTTP CONNECT): the SSRF rules apply to the target before anything reaches the proxy.
   * The target's name is resolved and checked here, and the proxy is asked to connect to the address that was
   * checked (the name goes in the Host header and TLS SNI), so a DNS answer that changes in between cannot send
   * a request to a private address through the proxy.
   */
  const proxies = new Map<string, ProxyAgent>();
  async function throughProxy(proxyUrl: string, target: URL, headers: Record<string, string>): Promise<{ url: string; dispatcher: Dispatcher; headers: Record<string, string> }> {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    let address = host;
    if (!isIP(host)) {
      const found = await dnsLookupAll(host, { all: true, verbatim: true }).catch((err) => {
        throw new TargetLookupError(err);
      });
      egress.ok(null, true);
      if (!opts.allowPrivateTargets && found.some((a) => !isPublicAddress(a.address))) throw new BlockedAddressError(`${host} resolves to a non-public address`);
      address = found[0].address;
    }
    const key = `${proxyUrl}|${target.protocol}|${host}`;
    let dispatcher = proxies.get(key);
    if (!dispatcher) {
      if (proxies.size > 1000) proxies.clear();
      dispatcher = new ProxyAgent({ uri: proxyUrl, keepAliveTimeout: 30_000, requestTls: isIP(host) ? {} : { servername: host } });
      proxies.set(key, dispatcher);
    }
    const direct = new URL(target);
    direct.hostname = isIP(address) === 6 ? `[${address}]` : address;
    return { url: direct.href, dispatcher, headers: { ...headers, host: target.host } };
  }

  async function send(url: string, headers: Record<string, string>, body: string, timeoutMs: number, proxyUrl: string | null = opts.proxyUrl ?? null): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (!opts.allowPrivateTargets && isIP(host) && !isPublicAddress(host)) throw new BlockedAddressError(`${host} is not a public address`);
      const via = proxyUrl ? await throughProxy(proxyUrl, target, headers) : { url, dispatcher: agent, headers };
      const res = await request(via.url, {
        method: 'POST',
        headers: via.headers,
        body,
        dispatcher: via.dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      let kept = '';
      let read = 0;
      for await (const chunk of res.body) {
        if (kept.length < RESPONSE_KEEP) kept += (chunk as Buffer).toString('utf8');
        read += (chunk as Buffer).length;
        if (read > RESPONSE_DRAIN) {
          res.body.destroy();
          break;
        }
      }
      const retryAfter = res.headers['retry-after'];
      egress.ok(proxyUrl, false);
      return {
        statusCode: res.statusCode,
        durationMs: elapsed(),
        error: res.statusCode >= 200 && res.statusCode < 300 ? null : 'http_status',
        responseBody: kept.slice(0, RESPONSE_KEEP),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : (retryAfter ?? null),
      };
    } catch (err) {
      const error = await blame(err, url, proxyUrl);
      return { statusCode: null, durationMs: elapsed(), error, responseBody: null, retryAfter: null };
    }
  }

  /**
   * Whose failure it is (issue 24, item 2): the endpoint's, or hookrelay's own path's. Through a proxy, a
   * connection that failed is the proxy's if the proxy does not accept a connection now (with a proxy, the worker
   * only ever connects to the proxy; a target that refuses comes back as the proxy's 502), and a CONNECT refused is
   * judged by its status. A name that did not resolve is the customer's (NXDOMAIN), unless the resolver itself does
   * not answer: then it is the resolver's.
   */
  async function blame(err: unknown, url: string, proxyUrl: string | null): Promise<AttemptError> {
    const targetLookup = err instanceof TargetLookupError;
    const cause = targetLookup ? err.cause : err;
    let error = classify(cause);
    let host = '';
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      // not a URL: classify's answer stands
    }
    if (proxyUrl && !targetLookup) {
      const status = proxyStatus(err);
      if (status !== null) error = classifyProxyStatus(status);
      else if (error === 'dns' || ((error === 'connection_refused' || error === 'timeout') && !(await proxyReachable(proxyUrl)))) error = 'proxy_unavailable';
    }
    const codes = codesOf(cause);
    const resolverSuspect = (error === 'dns' && RESOLVER_CODES.test(codes)) || (!proxyUrl && error === 'timeout' && /UND_ERR_CONNECT_TIMEOUT/.test(codes));
    if (resolverSuspect && host && !isIP(host) && (await resolverDown(host))) error = 'resolver_unavailable';
    // What the path's health learns: it failed, or the attempt got past it (an error of the endpoint's own).
    if (error === 'proxy_unavailable' || error === 'resolver_unavailable') egress.failed(error, proxyUrl, `${codes.trim() || (err as Error).message}`.replace(/\s+/g, ' '));
    else if (error !== 'blocked_address') egress.ok(targetLookup ? null : proxyUrl, error === 'dns' && !RESOLVER_CODES.test(codes));
    return error;
  }

  /** Whether the proxy accepts a TCP connection (within 1 s); one probe at a time per proxy, its answer kept 1 s. */
  const reachable = new Map<string, { at: number; answer: Promise<boolean> }>();
  function proxyReachable(proxyUrl: string): Promise<boolean> {
    if (opts.probes?.proxyReachable) return opts.probes.proxyReachable(proxyUrl);
    const hit = reachable.get(proxyUrl);
    if (hit && Date.now() - hit.at < 1000) return hit.answer;
    const answer = new Promise<boolean>((resolve) => {
      let u: URL;
      try {
        u = new URL(proxyUrl);
      } catch {
        return resolve(false);
      }
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      const socket = netConnect({ host: u.hostname.replace(/^\[|\]$/g, ''), port, timeout: 1000 });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('timeout', () => done(false));
      socket.once('error', () => done(false));
    });
    if (reachable.size > 1000) reachable.clear();
    reachable.set(proxyUrl, { at: Date.now(), answer });
    return answer;
  }

  /** Whether the resolver is down for us: asked directly (c-ares, the system's servers, 1.5 s, one try) for the name. */
  async function resolverDown(host: string): Promise<boolean> {
    if (opts.probes?.resolverDown) return opts.probes.resolverDown(host);
    try {
      await new Resolver({ timeout: 1500, tries: 1 }).resolve(host, 'A');
      return false;
    } catch (err) {
      return RESOLVER_DOWN.has((err as { code?: string }).code ?? '');
    }
  }

  return {
    send,
    egress,
    close: () => Promise.all([agent.close(), ...[...proxies.values()].map((p) => p.close())]).then(() => undefined),
  };
}

export type Sender = ReturnType<typeof createSender>;

export function classify(err: unknown): AttemptError {
  const chain: { code?: string; name?: string; message?: string }[] = [];
  let e = err as { code?: string; name?: string; cause?: unknown } | undefined;
  while (e && chain.length < 5) {
    chain.push(e);
    e = e.cause as typeof e;
  }
  const codes = chain.map((c) => `${c.code ?? ''} ${c.name ?? ''}`).join(' ');
  if (/EHOOKRELAY_BLOCKED/.test(codes)) return 'blocked_address';
  if (/TimeoutError|AbortError|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|ETIMEDOUT/.test(codes)) return 'timeout';
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL/.test(codes)) return 'dns';
  if (/CERT|TLS|SSL|EPROTO|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME_MISMATCH|ERR_SSL/.test(codes)) return 'tls';
  return 'connection_refused';
}

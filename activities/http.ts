import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { isPublicAddress } from '../src/domain/addresses.js';
import type { AttemptError } from '../src/storage/types.js';

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

/**
 * Sends signed POSTs. One keep-alive pool per origin (undici Agent). The SSRF guard sits in the connection's
 * DNS lookup, so the address that was checked is the address connected to; IP-literal hosts are checked
 * before the request since they skip the lookup.
 */
export function createSender(opts: { allowPrivateTargets: boolean; proxyUrl?: string | null; connectTimeoutMs?: number }) {
  const guardedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
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
      const found = await dnsLookupAll(host, { all: true, verbatim: true });
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
      return {
        statusCode: res.statusCode,
        durationMs: elapsed(),
        error: res.statusCode >= 200 && res.statusCode < 300 ? null : 'http_status',
        responseBody: kept.slice(0, RESPONSE_KEEP),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : (retryAfter ?? null),
      };
    } catch (err) {
      return { statusCode: null, durationMs: elapsed(), error: classify(err), responseBody: null, retryAfter: null };
    }
  }

  return { send, close: () => Promise.all([agent.close(), ...[...proxies.values()].map((p) => p.close())]).then(() => undefined) };
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

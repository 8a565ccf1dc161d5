import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

// Secrets are redacted wherever a log line may carry them (docs/architecture.md, invariant 7): signing secrets, keys,
// request credentials, and a webhook's custom header values as stored ({name, value} pairs, issue 24 item 7).
describe('log redaction', () => {
  it('redacts signing secrets, keys, credential headers and every stored custom header value', () => {
    const lines: string[] = [];
    const log = createLogger('info', 'test', { write: (s: string) => void lines.push(s) });
    log.info({
      secret: 'whsec_a', previous_secret: 'whsec_b', key: 'hrk_c',
      headers: [{ name: 'X-Customer-Pin', value: 'hdrcred_d' }],
      webhook: { headers: [{ name: 'Authorization', value: 'Bearer hdrcred_e' }], secret: 'whsec_f' },
      req: { headers: { authorization: 'Bearer hdrcred_g', cookie: 'sid=hdrcred_h', 'x-api-key': 'hdrcred_i', 'proxy-authorization': 'Basic hdrcred_j' } },
    }, 'line');
    expect(lines).toHaveLength(1);
    for (const leak of ['whsec_', 'hrk_', 'hdrcred_']) expect(lines[0]).not.toContain(leak);
    expect(JSON.parse(lines[0]).headers).toEqual([{ name: 'X-Customer-Pin', value: '[redacted]' }]);
  });
});

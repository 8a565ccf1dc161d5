import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../src/domain/addresses.js';

// Every IPv6 form that embeds an IPv4 address is classified by that address (issue 24, item 5).
describe('IPv4 embedded in IPv6', () => {
  // As written, and as a URL normalises it (`[::127.0.0.1]` becomes `[::7f00:1]`): both are what a check may see.
  const both = (forms: Record<string, string>) =>
    Object.entries(forms).flatMap(([form, a]) => [[form, a], [`${form} (URL)`, new URL(`https://[${a}]/`).hostname.slice(1, -1)]]);
  const hidden = (a: string) => ({
    compatible: `::${a}`,
    mapped: `::ffff:${a}`,
    translated: `::ffff:0:${a}`,
    nat64: `64:ff9b::${a}`,
  });
  const hex = (a: string) => a.split('.').map(Number);
  const sixToFour = (a: string) => {
    const [w, x, y, z] = hex(a);
    return `2002:${((w << 8) | x).toString(16)}:${((y << 8) | z).toString(16)}::1`;
  };
  // Teredo: 2001:0:<server>:<flags>:<port ^ ffff>:<client ^ ffffffff>; server 65.54.227.120 (public).
  const teredo = (a: string) => {
    const [w, x, y, z] = hex(a).map((n) => n ^ 0xff);
    return `2001:0:4136:e378:8000:63bf:${((w << 8) | x).toString(16)}:${((y << 8) | z).toString(16)}`;
  };

  it.each(['127.0.0.1', '10.0.0.1', '169.254.169.254', '192.168.1.1', '100.64.0.1', '0.0.0.0'])('a non-public %s hidden in any form is not public', (a) => {
    for (const [form, address] of both({ ...hidden(a), sixToFour: sixToFour(a), teredo: teredo(a) })) {
      expect(isPublicAddress(address), `${form} ${address}`).toBe(false);
    }
  });

  it('the forms seen in the issue (as URLs normalise them)', () => {
    for (const a of ['::127.0.0.1', '::7f00:1', '::ffff:7f00:1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '2002:a9fe:a9fe::1', '2001:0:4136:e378:8000:63bf:80ff:fffe', '::', '::1', '::2']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });

  it('a public address hidden in any form is public', () => {
    for (const [form, address] of both({ ...hidden('8.8.8.8'), sixToFour: sixToFour('8.8.8.8'), teredo: teredo('8.8.8.8') })) {
      expect(isPublicAddress(address), `${form} ${address}`).toBe(true);
    }
  });

  it('a Teredo address with a non-public server, and local-use NAT64, are not public', () => {
    expect(isPublicAddress('2001:0:a00:1:8000:63bf:f7f7:f7f7')).toBe(false); // server 10.0.0.1, client 8.8.8.8
    expect(isPublicAddress('64:ff9b:1::808:808')).toBe(false);
  });

  it('ordinary addresses keep their classification', () => {
    for (const a of ['::1', 'fe80::1', 'fc00::1', 'ff02::1', '2001:db8::1', '127.0.0.1', '10.1.2.3']) expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['2606:2800:220:1:248:1893:25c8:1946', '2a00:1450:4001:82a::200e', '8.8.8.8', '93.184.216.34']) expect(isPublicAddress(a), a).toBe(true);
  });
});

// The same rule where a URL is saved and where the worker sends (the SSRF guard of activities/http.ts).
import { checkFields } from '../../src/services/webhooks/fields.js';
import { createSender } from '../../activities/http.js';
import type { OrgId } from '../../src/domain/ids.js';

describe('hidden IPv4 at creation and at send', () => {
  const urls = ['https://[::127.0.0.1]:4401/', 'https://[::ffff:127.0.0.1]:4401/', 'https://[64:ff9b::127.0.0.1]:4401/', 'https://[2002:7f00:1::1]:4401/', 'https://[2001:0:4136:e378:8000:63bf:80ff:fffe]:4401/'];
  const policy = { allowHttpTargets: false, allowPrivateTargets: false, defaultTimeoutMs: 1000 };

  it.each(urls)('%s is refused when saved', async (url) => {
    // No event names: checkFields reads nothing from the store.
    const err = await checkFields(null as never, 'org_x' as OrgId, { url }, policy).then(() => null, (e) => e);
    expect(err?.status).toBe(400);
    expect(err.details[0]).toMatchObject({ path: 'url', message: expect.stringMatching(/not a public address/) });
  });

  it.each(urls)('%s is blocked at send', async (url) => {
    const sender = createSender({ allowPrivateTargets: false, proxyUrl: null, connectTimeoutMs: 500 });
    try {
      expect((await sender.send(url, {}, '{}', 1000)).error).toBe('blocked_address');
    } finally {
      await sender.close();
    }
  });
});

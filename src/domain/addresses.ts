import ipaddr from 'ipaddr.js';

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

/**
 * The IPv4 addresses an IPv6 address carries by a standard embedding — the ones a packet to it may end up at —
 * or null when it embeds none:
 * - `::a.b.c.d` (IPv4-compatible, deprecated; `::` and `::1` included, as 0.0.0.0 and 0.0.0.1),
 *   `::ffff:a.b.c.d` (IPv4-mapped), `::ffff:0:a.b.c.d` (IPv4-translated, RFC 6145): the last 32 bits;
 * - `64:ff9b::/96` (NAT64, RFC 6052): the last 32 bits;
 * - `2002::/16` (6to4, RFC 3056): bits 16–48;
 * - `2001::/32` (Teredo, RFC 4380): the client, the last 32 bits XOR 0xffffffff, and the Teredo server, bits 32–64.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] | null {
  const p = address.parts;
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (p[5] === 0 || p[5] === 0xffff)) return [v4(p[6], p[7])];
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return [v4(p[6], p[7])];
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return [v4(p[6], p[7])];
  if (p[0] === 0x2002) return [v4(p[1], p[2])];
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[6] ^ 0xffff, p[7] ^ 0xffff), v4(p[2], p[3])];
  return null;
}

/**
 * True for addresses a webhook may reach by default: public unicast only (no loopback, private, link-local,
 * metadata…). An IPv6 address that embeds an IPv4 address (above) is classified by what it embeds; the rest of
 * the NAT64 space (`64:ff9b:1::/48`, local use, where the IPv4 part's place is the operator's choice) is not public.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const embedded = embeddedIPv4(parsed as ipaddr.IPv6);
  if (embedded) return embedded.every((a) => a.range() === 'unicast');
  return parsed.range() === 'unicast';
}

/**
 * Address classification for the SSRF guard: which IPs an endpoint may not reach unless
 * an operator allows their network.
 */
import { BlockList, isIP } from 'node:net';

/** Networks refused by default: loopback, private, link-local (cloud metadata), unique-local, and kin. */
/** Networks refused by default (address, prefix, what it is): loopback, private, link-local (cloud metadata), unique-local, and kin. */
const DENIED_V4: [string, number, string][] = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local and cloud metadata'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const DENIED_V6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'], // deprecated: `::a.b.c.d`
  ['100::', 64, 'discard-only'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'], // deprecated
  ['ff00::', 8, 'multicast'],
  ['2001::', 32, 'Teredo'], // tunnels to an IPv4 address
  ['2001:db8::', 32, 'documentation'],
  ['64:ff9b::', 96, 'NAT64'],
  ['64:ff9b:1::', 48, 'NAT64'],
];

/** Parses "a.b.c.d/n,::1/128" into a BlockList. Throws with the offending entry. */
export function parseNetworks(text: string): BlockList {
  const list = new BlockList();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addr, bits] = entry.split('/');
    const family = isIP(addr ?? '');
    if (!addr || family === 0) throw new Error(`invalid network "${entry}": expected an address with /prefix`);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`invalid prefix in "${entry}"`);
    list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

const denied = new BlockList();
for (const [a, p] of DENIED_V4) denied.addSubnet(a, p, 'ipv4');
for (const [a, p] of DENIED_V6) denied.addSubnet(a, p, 'ipv6');

/** Each refused network on its own, most specific first, to name the one an address is in. */
const NAMED = [...DENIED_V4.map((d) => [...d, 'ipv4'] as const), ...DENIED_V6.map((d) => [...d, 'ipv6'] as const)]
  .sort((x, y) => y[1] - x[1])
  .map(([address, prefix, name, family]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { family, list, label: `${name} ${address}/${prefix}` };
  });

/** "loopback 127.0.0.0/8": the refused network `address` is in, if any. */
function refusedNetworkOf(address: string, family: 'ipv4' | 'ipv6'): string | undefined {
  return NAMED.find((n) => n.family === family && n.list.check(address, family))?.label;
}

/** The eight 16-bit groups of an IPv6 address (already validated by `isIP`). */
function v6Groups(address: string): number[] {
  let head = address;
  const tail: number[] = [];
  const quad = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (quad) {
    const [a, b, c, d] = quad.slice(2).map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    head = quad[1]!.endsWith('::') ? quad[1]! : quad[1]!.slice(0, -1);
  }
  const [left, right] = head.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const zeros = right === undefined ? [] : new Array<number>(8 - l.length - r.length - tail.length).fill(0);
  return [...l, ...zeros, ...r, ...tail];
}

const v4Of = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one:
 * IPv4-mapped `::ffff:a.b.c.d` (connects over IPv4), IPv4-compatible `::a.b.c.d`,
 * IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`.
 */
function embeddedV4(g: number[]): { v4: string; mapped: boolean } | undefined {
  const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return { v4: v4Of(g[6]!, g[7]!), mapped: true };
  if (zero(0, 6)) return { v4: v4Of(g[6]!, g[7]!), mapped: false };
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return { v4: v4Of(g[6]!, g[7]!), mapped: false };
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return { v4: v4Of(g[6]!, g[7]!), mapped: false };
  if (g[0] === 0x2002) return { v4: v4Of(g[1]!, g[2]!), mapped: false };
  return undefined;
}

/**
 * True if the address may be connected to: public, or inside an allowed network.
 * IPv6 forms that carry an IPv4 address are judged by that address too, so
 * `::ffff:127.0.0.1`, `::127.0.0.1` and `2002:7f00:1::` are refused like `127.0.0.1`.
 * Zone ids (`fe80::1%eth0`) are refused outright.
 */
export function addressAllowed(address: string, allowed: BlockList): boolean {
  if (address.includes('%')) return false;
  const family = isIP(address);
  if (family === 4) return allowed.check(address, 'ipv4') || !denied.check(address, 'ipv4');
  if (family !== 6) return false;
  const inner = embeddedV4(v6Groups(address));
  // A mapped address is an IPv4 connection: the IPv4 rules, allowed networks included, decide.
  if (inner?.mapped) return addressAllowed(inner.v4, allowed);
  if (allowed.check(address, 'ipv6')) return true;
  if (denied.check(address, 'ipv6')) return false;
  return !inner || !denied.check(inner.v4, 'ipv4');
}

/**
 * Why `address` is refused and the setting that would allow it, for error messages: the
 * operator of a first local test should not have to search for it. Only for an address
 * `addressAllowed` refused.
 */
export function refusalHint(address: string): string {
  if (address.includes('%')) return `${address} has a zone id; such addresses are never allowed`;
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  const allow = (net: string): string => `set SWITCHBOARD_ALLOWED_NETWORKS=${net} to allow it`;
  if (family === 4) return `${address} is in a refused network (${refusedNetworkOf(address, 'ipv4') ?? 'reserved'}); ${allow(`${address}/32`)}`;
  const inner = embeddedV4(v6Groups(address));
  // A mapped address is an IPv4 connection: only its IPv4 address can be allowed.
  if (inner?.mapped) return `${address} is the IPv4 address ${inner.v4}: ${refusalHint(inner.v4)}`;
  const own = refusedNetworkOf(address, 'ipv6');
  if (own) return `${address} is in a refused network (${own}); ${allow(`${address}/128`)}`;
  const carried = inner ? refusedNetworkOf(inner.v4, 'ipv4') : undefined;
  return `${address} carries the IPv4 address ${inner?.v4 ?? '?'}, in a refused network (${carried ?? 'reserved'}); ${allow(`${address}/128`)}`;
}

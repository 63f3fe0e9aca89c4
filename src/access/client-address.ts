/**
 * The key a client address is throttled under. An IPv4 address is itself; an IPv6 address
 * is its /64 network, because one subscriber usually holds a whole /64 and could otherwise
 * take a fresh address for every few guesses. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the
 * IPv4 address.
 */
import { isIPv6 } from 'node:net';

export function throttleKeyOfAddress(address: string): string {
  // An IPv4 address has no colon: no need for the IPv6 check's long regular expression (every request comes here).
  if (!address.includes(':')) return address;
  const bare = address.replace(/%.*$/, '').toLowerCase(); // without a zone id (`fe80::1%eth0`)
  if (!isIPv6(bare)) return address;
  const mapped = /^(?:0{0,4}:){0,5}ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare.replace(/^::/, '0:'));
  if (mapped) return mapped[1]!;
  const [head = '', tail] = bare.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (`::1.2.3.4`) is two groups; only the first four groups matter.
  const tailCount = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailCount)).fill('0'), ...tailGroups];
  return groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':') + '::/64';
}

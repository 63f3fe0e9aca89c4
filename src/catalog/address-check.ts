/**
 * The outbound-address guard when a destination is saved (endpoint URLs, sink and broker
 * URIs): a host that is, or resolves only to, addresses outside the allowed networks is
 * refused. A name that does not resolve now may resolve later, so only a definite private
 * answer is refused; the senders check again when they connect.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { BlockList } from 'node:net';
import { AppError } from '../domain/errors.js';
import { addressAllowed, refusalHint } from '../domain/network.js';

/** Throws a 422 at `loc` whose message starts with `refusal` and names the setting that would allow the address. */
export async function checkHostAllowed(hostname: string, allowed: BlockList, loc: string[], refusal: string): Promise<void> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    const res = await Promise.race([
      lookup(host, { all: true }).catch(() => [] as { address: string }[]),
      new Promise<{ address: string }[]>((r) => setTimeout(() => r([]), 2000).unref()),
    ]);
    addresses = res.map((a) => a.address);
  }
  if (addresses.length > 0 && addresses.every((a) => !addressAllowed(a, allowed))) {
    // The 422 lists issues only (no top-level message), so the issue itself names the setting.
    const hint = refusalHint(addresses[0]!);
    throw new AppError('endpoint_address_refused', `${refusal}: ${hint}`, [{ loc, msg: `address not allowed: ${hint}`, type: 'value_error.url.address' }]);
  }
}

/**
 * The outbound-address guard for broker connections (queue sources and broker sinks), as for
 * endpoints: the host of the broker URI is resolved here, its address is checked against the
 * server's allowed networks, and the client connects to that checked address. A name that
 * resolves to a refused address only after it was saved is refused when the connection opens;
 * the client never resolves the name again itself (no DNS rebinding). TLS still verifies the
 * broker's certificate against the name in the URI (the caller passes `servername`).
 */
import type { LookupAddress } from 'node:dns';
import type { BlockList } from 'node:net';
import { guardedLookup } from './http-sender.js';
import type { Resolver } from './http-sender.js';

export { REFUSED_ADDRESS } from './http-sender.js';

/** Where a broker connection goes: the URI with its host replaced by the checked address, and the name TLS verifies. */
export interface CheckedBroker {
  /** The URI with the checked address as its host (unchanged when there is no guard). */
  uri: string;
  /** The checked address, bracketed when IPv6 (the URI's host, when there is no guard). */
  host: string;
  /** The host name of the URI, for TLS (SNI and certificate checks). */
  servername: string;
}

/** The first allowed address of `hostname`; rejects with the guard's refusal when none is. */
function checkedAddress(hostname: string, allowed: BlockList, dns: Resolver | undefined): Promise<string> {
  const lookup = guardedLookup(allowed, dns);
  return new Promise((resolve, reject) =>
    lookup(hostname, {}, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[]) => (err ? reject(err) : resolve(address as string))),
  );
}

/**
 * Checks the host of a broker URI against `allowed` (no guard when absent) and gives the URI
 * to connect with. Rejects with the guard's refusal (code `REFUSED_ADDRESS`) or the resolver's
 * error. `dns` is `dns.lookup` unless a test injects one.
 */
export async function pinBrokerUri(uri: string, allowed: BlockList | undefined, dns?: Resolver): Promise<CheckedBroker> {
  const u = new URL(uri);
  const servername = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!allowed) return { uri, host: u.hostname, servername };
  const address = await checkedAddress(servername, allowed, dns);
  const host = address.includes(':') ? `[${address}]` : address;
  u.hostname = host;
  return { uri: u.toString(), host, servername };
}

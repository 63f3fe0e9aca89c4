/**
 * The private-address guard for broker sinks (rabbitMq, redis, natsJetStream, mqtt), applied
 * each time a connection opens, as it is for endpoints and HTTP sinks: the host of the sink's
 * URI is resolved here, its address is checked against the server's allowed networks, and the
 * client connects to that checked address. A name that resolves to a private address only
 * after the sink was saved is refused when the sink connects; the client never resolves the
 * name again itself. TLS still verifies the broker's certificate against the name in the URI
 * (the caller passes `servername`).
 */
import type { LookupAddress } from 'node:dns';
import type { BlockList } from 'node:net';
import { guardedLookup } from '../../../engine/http-sender.js';
import type { Resolver } from '../../../engine/http-sender.js';
import { SinkDeliveryError } from '../sink-transport.js';

/** Where a broker connection goes: the URI with its host replaced by the checked address, and the name TLS verifies. */
export interface CheckedBroker {
  /** The sink's URI with the checked address as its host (unchanged when there is no guard). */
  uri: string;
  /** The checked address, bracketed when IPv6 (the URI's host, when there is no guard). */
  host: string;
  /** The host name of the sink's URI, for TLS (SNI and certificate checks). */
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
 * Checks the host of a broker sink's URI against `allowed` (no guard when absent) and gives
 * the URI to connect with. A refused address is a non-retryable SinkDeliveryError naming the
 * setting that allows it; a name that does not resolve is retryable. `dns` is `dns.lookup`
 * unless a test injects one.
 */
export async function pinBrokerAddress(type: string, uri: string, allowed: BlockList | undefined, dns?: Resolver): Promise<CheckedBroker> {
  const u = new URL(uri);
  const servername = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!allowed) return { uri, host: u.hostname, servername };
  let address: string;
  try {
    address = await checkedAddress(servername, allowed, dns);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ESWITCHBOARDREFUSED') throw new SinkDeliveryError(`${type} sink address refused: ${err.message}`, null, false);
    throw new SinkDeliveryError(`${type}: could not resolve ${servername}: ${err.code ?? err.message}`);
  }
  const host = address.includes(':') ? `[${address}]` : address;
  u.hostname = host;
  return { uri: u.toString(), host, servername };
}

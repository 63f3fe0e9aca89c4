/**
 * The private-address guard for broker sinks (rabbitMq, redis, natsJetStream, mqtt), applied
 * each time a connection opens, as it is for endpoints and HTTP sinks (`engine/broker-address.ts`):
 * the client connects to the address checked, never resolving the name again itself. Its
 * refusals become sink delivery errors.
 */
import type { BlockList } from 'node:net';
import { REFUSED_ADDRESS, pinBrokerUri } from '../../../engine/broker-address.js';
import type { CheckedBroker } from '../../../engine/broker-address.js';
import type { Resolver } from '../../../engine/http-sender.js';
import { SinkDeliveryError } from '../sink-transport.js';

export type { CheckedBroker } from '../../../engine/broker-address.js';

/**
 * Checks the host of a broker sink's URI against `allowed` (no guard when absent) and gives
 * the URI to connect with. A refused address is a non-retryable SinkDeliveryError naming the
 * setting that allows it; a name that does not resolve is retryable. `dns` is `dns.lookup`
 * unless a test injects one.
 */
export async function pinBrokerAddress(type: string, uri: string, allowed: BlockList | undefined, dns?: Resolver): Promise<CheckedBroker> {
  try {
    return await pinBrokerUri(uri, allowed, dns);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === REFUSED_ADDRESS) throw new SinkDeliveryError(`${type} sink address refused: ${err.message}`, null, false);
    throw new SinkDeliveryError(`${type}: could not resolve ${new URL(uri).hostname}: ${err.code ?? err.message}`);
  }
}

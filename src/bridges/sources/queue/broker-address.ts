/**
 * The outbound-address guard for broker URIs, as for endpoint and poll URLs: a broker whose
 * host is (or resolves only to) an address outside the allowed networks is refused when a
 * source is saved, and each connection goes to an address checked as it opens
 * (`engine/broker-address.ts`): a name that later resolves elsewhere is refused, never followed.
 */
import type { BlockList } from 'node:net';
import { AppError } from '../../../domain/errors.js';
import { checkHostAllowed } from '../../../catalog/address-check.js';
import { REFUSED_ADDRESS, pinBrokerUri } from '../../../engine/broker-address.js';
import type { CheckedBroker } from '../../../engine/broker-address.js';
import type { Resolver } from '../../../engine/http-sender.js';

/** Throws a 422 naming `loc` when the URI's host is refused; a name that does not resolve now is let through (connecting will fail). */
export async function checkBrokerAddress(uri: string, allowed: BlockList, loc: string[] = ['body', 'config', 'uri']): Promise<void> {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new AppError('invalid_url', 'the broker URI is not a valid absolute URI', [{ loc, msg: 'invalid URI', type: 'value_error.url' }]);
  }
  await checkHostAllowed(u.hostname, allowed, loc, 'the broker address is not allowed');
}

/**
 * The URI a consumer connects with: its host replaced by an address checked now. A refused
 * address is a 422 naming the setting that allows it (shown in the source's state; the
 * consumer tries again with backoff, as for any failed connection); a name that does not
 * resolve is a plain error.
 */
export async function pinQueueBroker(uri: string, allowed: BlockList, dns?: Resolver): Promise<CheckedBroker> {
  try {
    return await pinBrokerUri(uri, allowed, dns);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === REFUSED_ADDRESS) {
      throw new AppError('endpoint_address_refused', `the broker address is not allowed: ${err.message}`, [{ loc: ['config', 'uri'], msg: err.message, type: 'value_error.url.address' }]);
    }
    throw new Error(`could not resolve ${new URL(uri).hostname}: ${err.code ?? err.message}`);
  }
}

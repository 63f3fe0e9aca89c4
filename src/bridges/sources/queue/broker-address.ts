/**
 * The outbound-address guard for broker URIs, as for endpoint and poll URLs: a broker whose
 * host is (or resolves only to) an address outside the allowed networks is refused, when a
 * source is saved and again before each connection.
 */
import type { BlockList } from 'node:net';
import { AppError } from '../../../domain/errors.js';
import { checkHostAllowed } from '../../../catalog/address-check.js';

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

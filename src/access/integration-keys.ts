/**
 * Integration keys as credentials: a key acts on its own application only, with the read,
 * write and publish scopes (like a read-write app-portal token); organisation routes and
 * other applications refuse it.
 */
import type { IntegrationService } from '../catalog/integrations.js';
import { principalOf } from './api-keys.js';
import type { Principal, TokenResolver } from './principal.js';

/** Token resolver for `Auth`: recognises current integration keys. */
export function integrationKeyResolver(integrations: Pick<IntegrationService, 'byKey'>): TokenResolver {
  return async (token: string): Promise<Principal | null> => {
    const i = await integrations.byKey(token);
    return i ? principalOf(i.id, i.appId, ['read', 'write', 'publish']) : null;
  };
}

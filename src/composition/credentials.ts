/**
 * Builds the credential services and request limits the HTTP layer takes (`Security`, a
 * type of http/deps.ts) and plugs them into `Auth`.
 */
import type { Clock } from '../domain/clock.js';
import type { Auth } from '../http/auth.js';
import type { Security } from '../http/deps.js';
import type { HardeningSettings } from '../http/hardening.js';
import type { RateLimitSettings } from '../http/rate-limit.js';
import type { Store } from '../storage/contract/store.js';
import type { ApplicationService } from '../catalog/applications.js';
import { ApiKeyService } from '../access/api-keys.js';
import { AppPortalService } from '../access/app-portal.js';
import { OAuthService } from '../access/oauth.js';

/** The audience of every access token this server issues and the only one it accepts. */
export const TOKEN_AUDIENCE = 'switchboard';

export interface SecurityOptions {
  store: Store;
  clock: Clock;
  applications: ApplicationService;
  auth: Auth;
  publicUrl: () => string;
  oauthTokenTtlSeconds: number;
  rateLimits: RateLimitSettings;
  hardening: HardeningSettings;
}

/** Builds the credential services and adds their token resolvers to `auth`. */
export function createSecurity(o: SecurityOptions): Security {
  const apiKeys = new ApiKeyService(o.store, o.clock, o.applications);
  const oauth = new OAuthService(o.store, o.clock, o.applications, {
    issuer: () => o.publicUrl().replace(/\/+$/, ''),
    audience: TOKEN_AUDIENCE,
    tokenTtlSeconds: o.oauthTokenTtlSeconds,
  });
  const portal = new AppPortalService(o.store, o.clock, o.applications, o.publicUrl);
  // Each resolver looks only at tokens with its own prefix or shape.
  o.auth.addResolver(apiKeys.resolve);
  o.auth.addResolver(portal.resolve);
  o.auth.addResolver(oauth.resolve);
  return { apiKeys, oauth, portal, rateLimits: o.rateLimits, hardening: o.hardening, publicUrl: o.publicUrl };
}

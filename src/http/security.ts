/** Installs the request limits and the credential routes on the app. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AppDeps } from './deps.js';
import { RateLimiter } from './rate-limit.js';
import { authRoutes } from './routes/access/auth.js';
import { oauthRoutes } from './routes/access/auth-oauth.js';
import { keyRoutes } from './routes/access/keys.js';

/** Rate-limit hooks; call right after `Auth.register` and before any route. */
export function registerRateLimits(app: FastifyInstance, deps: AppDeps): void {
  new RateLimiter(deps.security.rateLimits, deps.clock, deps.applications).register(app);
}

/** The auth, OAuth and key management routes. */
export const securityRoutes =
  (deps: AppDeps): FastifyPluginAsync =>
  async (app) => {
    await app.register(authRoutes(deps));
    await app.register(oauthRoutes(deps));
    await app.register(keyRoutes(deps));
  };

/**
 * The Stream API: builds the stream token service, lets `Auth` know
 * stream tokens, and registers the stream, sink, event and stream-token routes.
 */
import { StreamTokenService } from '../../../bridges/streams/stream-tokens.js';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { streamAuthRoutes } from './stream-auth.js';
import { streamEventRoutes } from './stream-events.js';
import { streamResourceRoutes } from './streams.js';
import { streamSinkRoutes } from './sinks.js';

export const streamApiRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.streams;
    const tokens = new StreamTokenService(deps.store, deps.clock, deps.security.publicUrl);
    deps.auth.addResolver(tokens.resolve);
    await app.register(streamResourceRoutes(svc));
    await app.register(streamSinkRoutes(svc));
    await app.register(streamEventRoutes(svc));
    await app.register(streamAuthRoutes(svc, tokens));
  };

/** /api/v1/auth/stream...: stream portal access, logout, expire-all, and the poller tokens of poller sinks. */
import type { StreamService } from '../../../bridges/streams/streams.js';
import type { StreamTokenService } from '../../../bridges/streams/stream-tokens.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';
import * as X from './stream-schemas.js';
import { apiTokenOut } from './stream-out.js';

const tags = ['authentication'];

export const streamAuthRoutes =
  (svc: StreamService, tokens: StreamTokenService): RoutePlugin =>
  async (app) => {
    app.post(
      '/api/v1/auth/stream-portal-access/:stream_id',
      { schema: { tags, summary: 'An expiring portal link and token for one stream', params: X.streamParams, body: X.portalAccessIn, response: { 200: X.portalAccessOut } } },
      async (req, reply) => {
        const out = await tokens.portalAccess(await svc.get(req.params.stream_id), { expiry: req.body?.expiry, sessionId: req.body?.sessionId });
        return reply.header('cache-control', 'no-store').send(out);
      },
    );

    app.post(
      '/api/v1/auth/stream-logout',
      { config: { access: 'any' }, schema: { tags, summary: 'Log out the calling stream portal token', response: { 204: S.noContent } } },
      async (req, reply) => {
        await tokens.logout(req.principal?.kind === 'stream' ? req.principal : null);
        return reply.code(204).send();
      },
    );

    app.post(
      '/api/v1/auth/stream/:stream_id/expire-all',
      { schema: { tags, summary: "Expire the stream's portal tokens", params: X.streamParams, body: X.expireAllIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        await tokens.expireAll(await svc.get(req.params.stream_id), req.body?.expiry ?? 0, req.body?.sessionIds ?? null);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/auth/stream/:stream_id/sink/:sink_id/poller/token',
      { schema: { tags, summary: "The poller sink's current token", params: X.sinkParams, response: { 200: X.apiTokenOut } } },
      async (req, reply) => reply.header('cache-control', 'no-store').send(apiTokenOut(await tokens.pollerToken(await svc.getSink(req.params.stream_id, req.params.sink_id)))),
    );

    app.post(
      '/api/v1/auth/stream/:stream_id/sink/:sink_id/poller/token/rotate',
      { schema: { tags, summary: 'A new poller token; older ones keep working for oldTokenExpiry seconds', params: X.sinkParams, body: X.rotatePollerTokenIn, response: { 200: X.apiTokenOut } } },
      async (req, reply) => {
        const sink = await svc.getSink(req.params.stream_id, req.params.sink_id);
        const t = await tokens.rotatePollerToken(sink, { expiry: req.body?.expiry, oldTokenExpiry: req.body?.oldTokenExpiry });
        return reply.header('cache-control', 'no-store').send(apiTokenOut(t));
      },
    );
  };

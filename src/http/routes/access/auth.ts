/** /api/v1/auth: app-portal access links, expire-all and logout. */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';

const CAPABILITIES = ['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint'];
const sessionId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9@_-]+$' } as const;

const portalAccessIn = {
  type: ['object', 'null'],
  properties: {
    application: { ...S.applicationIn, type: ['object', 'null'] },
    readOnly: { type: ['boolean', 'null'] },
    capabilities: { type: ['array', 'null'], items: { type: 'string', enum: CAPABILITIES }, uniqueItems: true, maxItems: CAPABILITIES.length },
    featureFlags: { type: 'array', items: S.S.name256, uniqueItems: true, maxItems: 25 },
    expiry: { type: ['integer', 'null'], minimum: 3600, maximum: 604800 },
    sessionId: { ...sessionId, type: ['string', 'null'] },
  },
} as const;

const portalAccessOut = {
  type: 'object',
  required: ['url', 'token'],
  properties: { url: { type: 'string' }, token: { type: 'string' } },
} as const;

const expireAllIn = {
  type: ['object', 'null'],
  properties: {
    expiry: { type: ['integer', 'null'], minimum: 0, maximum: 604800 },
    sessionIds: { type: 'array', items: sessionId, maxItems: 100 },
  },
} as const;

export const authRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const portal = deps.security.portal;

    app.post(
      '/api/v1/auth/app-portal-access/:app_id',
      {
        schema: {
          tags: ['authentication'],
          summary: 'An expiring consumer-portal link and token for one application',
          params: S.appParams,
          body: portalAccessIn,
          response: { 200: portalAccessOut },
        },
      },
      async (req, reply) => {
        const b = req.body ?? {};
        const a = b.application;
        const out = await portal.access(req.params.app_id, {
          application: a ? { name: a.name, uid: a.uid, throttleRate: a.throttleRate ?? a.rateLimit, metadata: a.metadata, headerStyle: a.headerStyle } : null,
          readOnly: b.readOnly,
          capabilities: b.capabilities,
          expiry: b.expiry,
          sessionId: b.sessionId,
        });
        return reply.header('cache-control', 'no-store').send(out);
      },
    );

    app.post(
      '/api/v1/auth/app/:app_id/expire-all',
      { schema: { tags: ['authentication'], summary: "Expire the application's portal tokens", params: S.appParams, body: expireAllIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        await portal.expireAll(req.params.app_id, req.body?.expiry ?? 0, req.body?.sessionIds ?? null);
        return reply.code(204).send();
      },
    );

    app.post(
      '/api/v1/auth/logout',
      { config: { access: 'any' }, schema: { tags: ['authentication'], summary: 'Log out the calling app-portal token', response: { 204: S.noContent } } },
      async (req, reply) => {
        await portal.logout(req.principal);
        return reply.code(204).send();
      },
    );
  };

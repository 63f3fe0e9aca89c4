/**
 * POST /api/v1/auth/dashboard-access/{app_id}: the older name of app-portal-access, kept by
 * the compatible API. It takes no body and answers a read-write consumer-portal link and
 * token for an existing application, as app-portal-access does with an empty body.
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';

const dashboardAccessOut = {
  type: 'object',
  required: ['url', 'token'],
  properties: { url: { type: 'string' }, token: { type: 'string' } },
} as const;

export const dashboardAccessRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    app.post(
      '/api/v1/auth/dashboard-access/:app_id',
      {
        schema: {
          tags: ['authentication'],
          summary: 'A consumer-portal link and token for one application (the older name of app-portal-access)',
          deprecated: true,
          params: S.appParams,
          response: { 200: dashboardAccessOut },
        },
      },
      async (req, reply) => {
        const out = await deps.security.portal.access(req.params.app_id, {});
        return reply.header('cache-control', 'no-store').send(out);
      },
    );
  };

/** GET|HEAD /api/v1/health/ping: a liveness probe that touches nothing (the compatible API's ping). */
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';

export const healthPingRoutes: RoutePlugin = async (app) => {
  app.get(
    '/api/v1/health/ping',
    { schema: { tags: ['health'], summary: 'Answers 204 while the process serves requests; checks nothing else', response: { 204: S.noContent } } },
    async (_req, reply) => reply.code(204).send(),
  );
};

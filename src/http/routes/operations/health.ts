/** Health and readiness. */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { sendError } from '../../errors.js';
import * as S from '../../schemas.js';

export const healthRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const check = async (): Promise<boolean> => {
      try {
        await deps.store.ping();
        return true;
      } catch {
        return false;
      }
    };
    app.get('/api/v1/health', { schema: { tags: ['health'], summary: 'Health: 204 when the database answers', response: { 204: S.noContent } } }, async (_req, reply) => {
      if (!(await check())) return sendError(reply, 'unavailable', 'database is not answering');
      return reply.code(204).send();
    });
    app.get('/api/v1/health/ready', { schema: { tags: ['health'], summary: 'Readiness: 204 when this node takes work', response: { 204: S.noContent } } }, async (_req, reply) => {
      if (!deps.ready() || !(await check())) return sendError(reply, 'unavailable', 'not ready');
      return reply.code(204).send();
    });
  };

/** `GET /metrics` and the hook that times every HTTP request. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Metrics } from './metrics.js';

/** Counts and times every answered request by route pattern; call before routes are added. */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether an Authorization header carries `token` as a bearer token (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** The Prometheus scrape endpoint; with `token`, only scrapers presenting it are answered. */
export const metricsRoutes =
  (metrics: Metrics, token?: string): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/metrics',
      {
        config: { access: 'public' },
        schema: {
          tags: ['health'],
          summary: 'Prometheus metrics',
          description: 'Metrics in the Prometheus text exposition format. See docs/metrics.md for every metric and its labels.',
          produces: ['text/plain'],
          response: {
            200: { description: 'Prometheus text exposition format', type: 'string' },
            401: { description: 'SWITCHBOARD_METRICS_TOKEN is set and the request did not present it', type: 'object', properties: { code: { type: 'string' }, detail: { type: 'string' } } },
          },
        },
      },
      async (req, reply) => {
        if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="metrics"')
            .send({ code: 'authentication_failed', detail: 'this server protects /metrics: send Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>' });
        }
        const { contentType, body } = await metrics.expose();
        return reply.type(contentType).send(body);
      },
    );
  };

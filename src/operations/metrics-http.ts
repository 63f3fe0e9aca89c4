/** `GET /metrics` and the hook that times every HTTP request. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Metrics } from './metrics.js';

/** Counts and times every answered request by route pattern; call before routes are added. */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** The Prometheus scrape endpoint. */
export const metricsRoutes =
  (metrics: Metrics): FastifyPluginAsync =>
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
          response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
        },
      },
      async (_req, reply) => {
        const { contentType, body } = await metrics.expose();
        return reply.type(contentType).send(body);
      },
    );
  };

/** Node roles at the HTTP edge: a `worker` node answers health checks and metrics only. */
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.js';

const OPEN_ON_WORKERS = /^\/(api\/v1\/health(\/|$|\?)|metrics($|\?))/;

/** Refuses every request but health checks and metrics (role `worker`: the API is on `api` nodes). */
export function serveHealthOnly(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (OPEN_ON_WORKERS.test(req.url)) return;
    return sendError(reply, 'not_found', 'this node only sends deliveries (role worker); send API requests to an api or all node');
  });
}

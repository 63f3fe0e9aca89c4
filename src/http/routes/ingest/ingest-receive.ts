/**
 * The public ingest URL, `/ingest/in/{token}`: where providers send their webhooks. Bodies
 * are read as raw bytes whatever their content type (JSON, forms, anything), because
 * signatures are computed over the exact bytes sent.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { IngestDeps } from '../../deps.js';
import { ingestEndpointRoutes } from './ingest-endpoints.js';
import { ingestSourceRoutes, publicBase } from './ingest-sources.js';
import * as I from './ingest-schemas.js';

/**
 * A received body. The bytes sit in a private field: hooks that walk parsed bodies (depth
 * and number checks) see an object with no properties instead of a million byte indexes.
 */
export class RawBody {
  readonly #bytes: Buffer;
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }
  get bytes(): Buffer {
    return this.#bytes;
  }
}

const receiveRoutes =
  (deps: IngestDeps): FastifyPluginAsync =>
  async (app) => {
    // This plugin's own parsers: every content type, as bytes.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, new RawBody(body as Buffer)));

    app.post<{ Params: { token: string } }>(
      '/ingest/in/:token',
      {
        config: { access: 'public' },
        schema: {
          tags: ['ingest-source'],
          summary: 'Receive a webhook for the source with this token',
          params: { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 128 } } },
          response: { 200: I.receiveOut },
        },
      },
      async (req, reply) => {
        const body = req.body instanceof RawBody ? req.body.bytes : Buffer.alloc(0);
        const r = await deps.ingest.receive({
          token: req.params.token,
          body,
          headers: req.headers,
          url: publicBase(req, deps.publicUrl) + req.raw.url,
        });
        return reply.code(r.status).type(r.contentType).send(r.body);
      },
    );
  };

/** Every ingest route: source management, source endpoints, and the receiving URL. */
export const ingestRoutes =
  (deps: IngestDeps): FastifyPluginAsync =>
  async (app) => {
    await app.register(ingestSourceRoutes(deps));
    await app.register(ingestEndpointRoutes(deps));
    await app.register(receiveRoutes(deps));
  };

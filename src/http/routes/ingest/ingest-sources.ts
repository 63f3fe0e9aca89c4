/** /ingest/api/v1/source: ingest sources, their URL tokens and logs. */
import type { FastifyRequest } from 'fastify';
import type { IngestLog, RunState } from '../../../storage/contract/ingest.js';
import type { QueueConsumerView, SourceView } from '../../../bridges/ingest/ingest-sources.js';
import type { IngestDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import * as I from './ingest-schemas.js';
import { pageOf } from '../common.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The base URL ingest URLs are built on: the configured public URL, else this request's origin. */
export function publicBase(req: FastifyRequest, configured: string | null): string {
  return (configured ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}

/** The URL a provider is given for a token. */
export const ingestUrl = (base: string, token: string): string => `${base}/ingest/in/${token}`;

function runOut(r: RunState) {
  return { nextRunAt: iso(r.nextRunAt), lastRunAt: r.lastRunAt === null ? null : iso(r.lastRunAt), lastOutcome: r.lastOutcome, lastError: r.lastError, failures: r.failures, running: r.running };
}

function consumerOut(c: QueueConsumerView) {
  const at = (ms: number | null) => (ms === null ? null : iso(ms));
  return { connected: c.connected, lastError: c.lastError, lastErrorAt: at(c.lastErrorAt), lastMessageAt: at(c.lastMessageAt), consumed: c.consumed, deadLettered: c.deadLettered };
}

export function sourceOut(v: SourceView, base: string) {
  const s = v.source;
  return {
    id: s.id,
    uid: s.uid ?? undefined,
    name: s.name,
    type: s.type,
    config: v.publicConfig,
    ingestUrl: v.token === null ? null : ingestUrl(base, v.token),
    metadata: s.metadata,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    run: v.run ? runOut(v.run) : undefined,
    consumer: v.consumer ? consumerOut(v.consumer) : undefined,
  };
}

function logOut(l: IngestLog) {
  const at = iso(l.createdAt);
  return { id: l.id, source_id: l.sourceId, status_code: l.statusCode, error_text: l.errorText, headers: l.headers, payload: l.payload, created_at: at, updated_at: at };
}

const admin = { access: 'admin' as const };

export const ingestSourceRoutes =
  (ingest: IngestDeps): RoutePlugin =>
  async (app) => {
    const svc = ingest.sources;
    const tags = ['ingest-source'];
    const out = async (req: FastifyRequest, id: string) => sourceOut(await svc.view(await svc.get(id)), publicBase(req, ingest.publicUrl));

    app.get(
      '/ingest/api/v1/source',
      { config: admin, schema: { tags, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(I.sourceOut) } } },
      async (req) => {
        const page = await svc.list(pageOf(req.query));
        const base = publicBase(req, ingest.publicUrl);
        const views = await Promise.all(page.data.map((s) => svc.view(s)));
        return { ...listOut(page, (s) => s), data: views.map((v) => sourceOut(v, base)) };
      },
    );

    app.post(
      '/ingest/api/v1/source',
      { config: admin, schema: { tags, body: I.sourceIn, response: { 201: I.sourceOut } } },
      async (req, reply) => {
        const s = await svc.create(req.body);
        return reply.code(201).send(await out(req, s.id));
      },
    );

    app.get(
      '/ingest/api/v1/source/:source_id',
      { config: admin, schema: { tags, params: I.sourceParams, response: { 200: I.sourceOut } } },
      async (req) => out(req, req.params.source_id),
    );

    app.put(
      '/ingest/api/v1/source/:source_id',
      { config: admin, schema: { tags, params: I.sourceParams, body: I.sourceIn, response: { 200: I.sourceOut, 201: I.sourceOut } } },
      async (req, reply) => {
        const { source, created } = await svc.upsert(req.params.source_id, req.body);
        return reply.code(created ? 201 : 200).send(await out(req, source.id));
      },
    );

    app.patch(
      '/ingest/api/v1/source/:source_id',
      { config: admin, schema: { tags, params: I.sourceParams, body: I.sourcePatch, response: { 200: I.sourceOut } } },
      async (req) => {
        const s = await svc.patch(req.params.source_id, req.body);
        return out(req, s.id);
      },
    );

    app.delete(
      '/ingest/api/v1/source/:source_id',
      { config: admin, schema: { tags, params: I.sourceParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        await svc.delete(req.params.source_id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/ingest/api/v1/source/:source_id/token/rotate',
      { config: admin, schema: { tags, params: I.sourceParams, response: { 200: I.rotateTokenOut } } },
      async (req) => ({ ingestUrl: ingestUrl(publicBase(req, ingest.publicUrl), await svc.rotateToken(req.params.source_id)) }),
    );

    const portal = ingest.portal;
    if (portal) {
      app.post(
        '/ingest/api/v1/source/:source_id/dashboard',
        { config: admin, schema: { tags, summary: 'A consumer-portal link for the source\u2019s endpoints and messages', params: I.sourceParams, body: I.dashboardIn, response: { 200: I.dashboardOut } } },
        async (req, reply) => {
          const { app: a } = await svc.withApp(req.params.source_id);
          const out = await portal.access(a.id, { readOnly: req.body?.readOnly ?? false, expiry: req.body?.expiry ?? 7 * 86_400 });
          return reply.header('cache-control', 'no-store').send(out);
        },
      );
    }

    app.get(
      '/ingest/api/v1/source/:source_id/log',
      {
        config: admin,
        schema: { tags, params: I.sourceParams, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(I.logOut) } },
      },
      async (req) => listOut(await svc.logs(req.params.source_id, pageOf(req.query)), logOut),
    );
  };

/**
 * /ingest/api/v1/source/{source_id}/endpoint: where a source's events are forwarded. They
 * are the endpoints of the source's application, so attempts, recover, replay and stats are
 * also reachable through `/api/v1/app/{source_id}/endpoint/...`.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { EndpointInput } from '../../../catalog/endpoints.js';
import type { IngestDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { endpointOut, listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import * as I from './ingest-schemas.js';
import { pageOf } from '../common.js';

type EndpointBody = FromSchema<typeof S.endpointIn>;

/** Maps the body to service input; `filterTypes`/`eventTypes` and `rateLimit`/`throttleRate` are aliases. */
function input(b: EndpointBody): EndpointInput;
function input(b: Partial<EndpointBody>): Partial<EndpointInput>;
function input(b: Partial<EndpointBody>): Partial<EndpointInput> {
  const out: Partial<EndpointInput> = {
    url: b.url,
    uid: b.uid,
    description: b.description,
    disabled: b.disabled,
    eventTypes: b.filterTypes !== undefined ? b.filterTypes : b.eventTypes,
    throttleRate: b.rateLimit !== undefined ? b.rateLimit : b.throttleRate,
    metadata: b.metadata,
    secret: b.secret ?? undefined,
    headers: b.headers ?? undefined,
    filter: b.filter,
  };
  for (const k of Object.keys(out) as (keyof EndpointInput)[]) if (out[k] === undefined) delete out[k];
  return out;
}

const admin = { access: 'admin' as const };
const headersOut = {
  type: 'object',
  required: ['headers', 'sensitive'],
  properties: { headers: { type: 'object', additionalProperties: { type: 'string' } }, sensitive: { type: 'array', items: { type: 'string' } } },
} as const;

export const ingestEndpointRoutes =
  (ingest: IngestDeps): RoutePlugin =>
  async (app) => {
    const sources = ingest.sources;
    const eps = sources.endpointService;
    const tags = ['ingest-endpoint'];
    const base = '/ingest/api/v1/source/:source_id/endpoint';

    app.get(
      base,
      { config: admin, schema: { tags, params: I.sourceParams, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(S.endpointOut) } } },
      async (req) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        return listOut(await eps.list(a.id, pageOf(req.query)), endpointOut);
      },
    );

    app.post(
      base,
      { config: admin, schema: { tags, params: I.sourceParams, body: S.endpointIn, response: { 201: S.endpointOut } } },
      async (req, reply) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        return reply.code(201).send(endpointOut(await eps.create(a.id, input(req.body))));
      },
    );

    app.get(
      `${base}/:endpoint_id`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, response: { 200: S.endpointOut } } },
      async (req) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        return endpointOut(await eps.get(a.id, req.params.endpoint_id));
      },
    );

    app.put(
      `${base}/:endpoint_id`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, body: S.endpointUpdate, response: { 200: S.endpointOut, 201: S.endpointOut } } },
      async (req, reply) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        const { ep, created } = await eps.upsert(a.id, req.params.endpoint_id, input(req.body));
        return reply.code(created ? 201 : 200).send(endpointOut(ep));
      },
    );

    app.patch(
      `${base}/:endpoint_id`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, body: S.endpointPatch, response: { 200: S.endpointOut } } },
      async (req) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        return endpointOut(await eps.patch(a.id, req.params.endpoint_id, input(req.body)));
      },
    );

    app.delete(`${base}/:endpoint_id`, { config: admin, schema: { tags, params: I.sourceEndpointParams, response: { 204: S.noContent } } }, async (req, reply) => {
      const { app: a } = await sources.withApp(req.params.source_id);
      await eps.delete(a.id, req.params.endpoint_id);
      return reply.code(204).send();
    });

    app.get(
      `${base}/:endpoint_id/secret`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, response: { 200: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } } } },
      async (req) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        return { key: await eps.secret(a.id, req.params.endpoint_id) };
      },
    );

    app.post(
      `${base}/:endpoint_id/secret/rotate`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, body: S.secretRotateIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        await eps.rotateSecret(a.id, req.params.endpoint_id, req.body?.key, req.body?.gracePeriodSeconds ?? undefined);
        return reply.code(204).send();
      },
    );

    app.get(
      `${base}/:endpoint_id/headers`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, response: { 200: headersOut } } },
      async (req) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        return eps.headers(a.id, req.params.endpoint_id);
      },
    );

    app.put(
      `${base}/:endpoint_id/headers`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, body: S.headersIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        await eps.setHeaders(a.id, req.params.endpoint_id, req.body.headers, false);
        return reply.code(204).send();
      },
    );

    const settings = ingest.transformations;
    if (!settings) return;

    app.get(
      `${base}/:endpoint_id/transformation`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, response: { 200: I.transformationOut } } },
      async (req) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        const t = await settings.get(a.id, req.params.endpoint_id);
        return { code: t.code, enabled: t.enabled, variables: t.variables };
      },
    );

    app.patch(
      `${base}/:endpoint_id/transformation`,
      { config: admin, schema: { tags, params: I.sourceEndpointParams, body: I.transformationPatch, response: { 204: S.noContent } } },
      async (req, reply) => {
        const { app: a } = await sources.withApp(req.params.source_id);
        await settings.patch(a.id, req.params.endpoint_id, req.body);
        return reply.code(204).send();
      },
    );
  };

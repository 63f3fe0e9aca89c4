/** /api/v1/app/{app_id}/endpoint */
import type { FromSchema } from 'json-schema-to-ts';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { AppError } from '../../../domain/errors.js';
import type { EndpointInput } from '../../../catalog/endpoints.js';
import { endpointOut, listOut, messageOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf, timeParam } from '../common.js';
import { taskStartedOut } from '../push/background-tasks.js';

type EndpointBody = FromSchema<typeof S.endpointIn>;

const epParams = {
  type: 'object',
  required: ['app_id', 'endpoint_id'],
  properties: { app_id: { type: 'string', minLength: 1, maxLength: 256 }, endpoint_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

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
    channels: b.channels,
    throttleRate: b.rateLimit !== undefined ? b.rateLimit : b.throttleRate,
    metadata: b.metadata,
    secret: b.secret ?? undefined,
    headers: b.headers ?? undefined,
    filter: b.filter,
  };
  for (const k of Object.keys(out) as (keyof EndpointInput)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** An endpoint's ordering settings and paused keys (Switchboard extension). */
const orderingOut = {
  type: 'object',
  required: ['endpointId', 'ordered', 'policy', 'keyPath', 'tagPrefix', 'pausedKeys'],
  properties: {
    endpointId: { type: 'string' },
    ordered: { type: 'boolean' },
    policy: { type: ['string', 'null'] },
    keyPath: { type: ['string', 'null'] },
    tagPrefix: { type: ['string', 'null'] },
    pausedKeys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['orderingKey', 'msgId', 'pausedAt'],
        properties: { orderingKey: { type: 'string' }, msgId: { type: 'string' }, pausedAt: { type: 'string' } },
      },
    },
  },
} as const;

/** EndpointIn with the Switchboard extension `connectorId`: start with that connector's transformation. */
const endpointCreateIn = {
  ...S.endpointIn,
  properties: { ...S.endpointIn.properties, connectorId: { type: 'string', minLength: 1, maxLength: 256, description: 'Switchboard extension: a connector id or uid whose transformation the endpoint starts with' } },
} as const;

export const endpointRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.endpoints;
    const appOf = (id: string) => deps.applications.get(id);

    app.get(
      '/api/v1/app/:app_id/endpoint',
      { schema: { tags: ['endpoint'], params: S.appParams, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(S.endpointOut) } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return listOut(await svc.list(a.id, pageOf(req.query)), endpointOut);
      },
    );

    app.post(
      '/api/v1/app/:app_id/endpoint',
      { schema: { tags: ['endpoint'], params: S.appParams, body: endpointCreateIn, response: { 201: S.endpointOut } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const fields = input(req.body);
        const start = req.body.connectorId === undefined ? null : await deps.connectors.endpointStart(req.body.connectorId, fields.eventTypes);
        const ep = await svc.create(a.id, start ? { ...fields, ...start } : fields);
        return reply.code(201).send(endpointOut(ep));
      },
    );

    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id',
      { schema: { tags: ['endpoint'], params: epParams, response: { 200: S.endpointOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return endpointOut(await svc.get(a.id, req.params.endpoint_id));
      },
    );

    app.put(
      '/api/v1/app/:app_id/endpoint/:endpoint_id',
      { schema: { tags: ['endpoint'], params: epParams, body: S.endpointUpdate, response: { 200: S.endpointOut, 201: S.endpointOut } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const { ep, created } = await svc.upsert(a.id, req.params.endpoint_id, input(req.body));
        return reply.code(created ? 201 : 200).send(endpointOut(ep));
      },
    );

    app.patch(
      '/api/v1/app/:app_id/endpoint/:endpoint_id',
      { schema: { tags: ['endpoint'], params: epParams, body: S.endpointPatch, response: { 200: S.endpointOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return endpointOut(await svc.patch(a.id, req.params.endpoint_id, input(req.body)));
      },
    );

    app.delete('/api/v1/app/:app_id/endpoint/:endpoint_id', { schema: { tags: ['endpoint'], params: epParams, response: { 204: S.noContent } } }, async (req, reply) => {
      const a = await appOf(req.params.app_id);
      await svc.delete(a.id, req.params.endpoint_id);
      return reply.code(204).send();
    });

    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
      {
        schema: {
          tags: ['endpoint'],
          params: epParams,
          response: {
            200: {
              type: 'object',
              required: ['headers', 'sensitive'],
              properties: { headers: { type: 'object', additionalProperties: { type: 'string' } }, sensitive: { type: 'array', items: { type: 'string' } } },
            },
          },
        },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return svc.headers(a.id, req.params.endpoint_id);
      },
    );

    app.put(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
      { schema: { tags: ['endpoint'], params: epParams, body: S.headersIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        await svc.setHeaders(a.id, req.params.endpoint_id, req.body.headers, false);
        return reply.code(204).send();
      },
    );

    app.patch(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
      { schema: { tags: ['endpoint'], params: epParams, body: S.headersPatchIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const changes: Record<string, string | null> = Object.fromEntries([
          ...Object.entries(req.body.headers),
          ...(req.body.deleteHeaders ?? []).map((name) => [name, null] as const),
        ]);
        await svc.setHeaders(a.id, req.params.endpoint_id, changes, true);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/secret',
      { config: { access: 'app:secret' }, schema: { tags: ['endpoint'], params: epParams, response: { 200: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return { key: await svc.secret(a.id, req.params.endpoint_id) };
      },
    );

    app.post(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/secret/rotate',
      { schema: { tags: ['endpoint'], params: epParams, body: S.secretRotateIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        await svc.rotateSecret(a.id, req.params.endpoint_id, req.body?.key, req.body?.gracePeriodSeconds);
        return reply.code(204).send();
      },
    );

    // Recover (failed deliveries again) and replay-missing (messages never sent here) share a
    // shape: each starts a background task, answered 202 while it runs.
    const windowTasks = [
      { path: 'recover', task: 'endpoint.recover' },
      { path: 'replay-missing', task: 'endpoint.replay' },
    ] as const;
    for (const t of windowTasks) {
      app.post(
        `/api/v1/app/:app_id/endpoint/:endpoint_id/${t.path}`,
        { schema: { tags: ['endpoint'], params: epParams, body: S.windowIn, response: { 202: S.taskOut } } },
        async (req, reply) => {
          const a = await appOf(req.params.app_id);
          const since = timeParam(req.body.since, ['body', 'since'])!;
          const until = timeParam(req.body.until, ['body', 'until']) ?? null;
          const ep = await svc.get(a.id, req.params.endpoint_id);
          if (t.task === 'endpoint.replay' && ep.disabled) throw new AppError('conflict', 'endpoint is disabled; enable it before replaying');
          const task = await deps.tasks.start(t.task, a.id, { appId: a.id, endpointId: ep.id, since, until });
          return reply.code(202).send(taskStartedOut(task));
        },
      );
    }

    // Switchboard extension: ordered delivery (docs/ordering.md). The settings are the endpoint's
    // reserved metadata keys; this reads them back with the keys failed deliveries paused.
    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/ordering',
      {
        schema: {
          tags: ['endpoint'],
          params: epParams,
          querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 } } },
          response: { 200: orderingOut },
        },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const { endpoint, config, paused } = await svc.ordering(a.id, req.params.endpoint_id, req.query.limit ?? 50);
        return {
          endpointId: endpoint.id,
          ordered: config !== null,
          policy: config?.policy ?? null,
          keyPath: config?.keyPath?.join('.') ?? null,
          tagPrefix: config?.tagPrefix ?? null,
          pausedKeys: paused.map((p) => ({ orderingKey: p.key, msgId: p.messageId, pausedAt: new Date(p.pausedAt).toISOString() })),
        };
      },
    );

    app.post(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/ordering/resume',
      {
        schema: {
          tags: ['endpoint'],
          params: epParams,
          body: { type: 'object', required: ['orderingKey'], properties: { orderingKey: { type: 'string', maxLength: 256 } }, additionalProperties: false },
          response: { 204: S.noContent },
        },
      },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const ep = await svc.resumeKey(a.id, req.params.endpoint_id, req.body.orderingKey);
        deps.messages.kick(ep.id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/send-example',
      { schema: { tags: ['endpoint'], params: epParams, body: S.eventExampleIn, response: { 200: S.messageOut } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const ep = await svc.get(a.id, req.params.endpoint_id);
        if (ep.disabled) throw new AppError('conflict', 'endpoint is disabled');
        const example = await deps.eventTypes.example(req.body.eventType);
        if (!example) throw new AppError('bad_request', `event type "${req.body.eventType}" has no example in its schemas`);
        const { message } = await deps.messages.publish(a, { eventType: req.body.eventType, payload: JSON.stringify(example), onlyEndpoint: ep });
        return reply.code(200).send(messageOut(message));
      },
    );

    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/stats',
      {
        schema: {
          tags: ['endpoint'],
          params: epParams,
          querystring: { type: 'object', properties: { since: S.S.dateTime, until: S.S.dateTime } },
          response: { 200: S.statsOut },
        },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const since = timeParam(req.query.since, ['query', 'since']) ?? null;
        const until = timeParam(req.query.until, ['query', 'until']) ?? null;
        return { ...(await svc.stats(a.id, req.params.endpoint_id, since, until)), canceled: 0 };
      },
    );
  };

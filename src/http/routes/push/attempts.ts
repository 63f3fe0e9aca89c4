/** Message attempts and the views joining messages with endpoints. */
import type { FromSchema } from 'json-schema-to-ts';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { notFound } from '../../../domain/errors.js';
import type { AttemptQuery } from '../../../storage/contract/store.js';
import { attemptOut, deliveryStatusOut, endpointOut, listOut, messageOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { listParam, listQueryArray, pageOf, timeParam } from '../common.js';

const idParam = { type: 'string', minLength: 1, maxLength: 256 } as const;
/** The path parameters `names`, each a required id. */
function params<const Names extends readonly string[]>(...names: Names) {
  // Object.fromEntries cannot type its result: each name maps to idParam.
  const properties = Object.fromEntries(names.map((n) => [n, idParam])) as { [N in Names[number]]: typeof idParam };
  return { type: 'object', required: names, properties } as const;
}

const attemptQuerySchema = {
  type: 'object',
  properties: {
    ...S.pageQuery,
    status: { type: 'integer', enum: [0, 1, 2, 3] },
    status_code_class: { type: 'integer', enum: [0, 100, 200, 300, 400, 500] },
    channel: { type: 'string', maxLength: 128 },
    endpoint_id: idParam,
    before: S.S.dateTime,
    after: S.S.dateTime,
    event_types: listQueryArray,
    with_content: { type: 'boolean', default: true },
  },
} as const;

/** An endpoint's attempts may embed their message (`with_msg=true`). */
const endpointAttemptQuerySchema = {
  type: 'object',
  properties: { ...attemptQuerySchema.properties, with_msg: { type: 'boolean', default: false, description: 'Embed each attempt\'s message as `msg`' } },
} as const;
const attemptWithMsgOut = { ...S.attemptOut, properties: { ...S.attemptOut.properties, msg: S.messageOut } } as const;

function attemptQuery(q: FromSchema<typeof attemptQuerySchema>): AttemptQuery {
  return {
    ...pageOf(q),
    status: q.status,
    statusCodeClass: q.status_code_class,
    channel: q.channel,
    before: timeParam(q.before, ['query', 'before']),
    after: timeParam(q.after, ['query', 'after']),
    eventTypes: listParam(q.event_types),
  };
}

export const attemptRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const store = deps.store;
    const appOf = (id: string) => deps.applications.get(id);

    app.get(
      '/api/v1/app/:app_id/attempt/endpoint/:endpoint_id',
      { schema: { tags: ['message-attempt'], params: params('app_id', 'endpoint_id'), querystring: endpointAttemptQuerySchema, response: { 200: S.listOf(attemptWithMsgOut) } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const ep = await deps.endpoints.get(a.id, req.params.endpoint_id);
        const page = await store.listAttemptsByEndpoint(a.id, ep.id, attemptQuery(req.query));
        if (!req.query.with_msg) return listOut(page, attemptOut);
        const ids = [...new Set(page.data.map((x) => x.messageId))];
        const found = new Map((await Promise.all(ids.map((id) => deps.messages.find(a.id, id)))).flatMap((m) => (m ? [[m.id, m] as const] : [])));
        return listOut(page, (x) => {
          const m = found.get(x.messageId);
          return m ? { ...attemptOut(x), msg: messageOut(m) } : attemptOut(x);
        });
      },
    );

    app.get(
      '/api/v1/app/:app_id/attempt/msg/:msg_id',
      { schema: { tags: ['message-attempt'], params: params('app_id', 'msg_id'), querystring: attemptQuerySchema, response: { 200: S.listOf(S.attemptOut) } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const m = await deps.messages.get(a.id, req.params.msg_id);
        let endpointId: string | undefined;
        if (req.query.endpoint_id) endpointId = (await deps.endpoints.get(a.id, req.query.endpoint_id)).id;
        const page = await store.listAttemptsByMessage(a.id, m.id, { ...attemptQuery(req.query), endpointId });
        return listOut(page, attemptOut);
      },
    );

    app.get(
      '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id',
      { schema: { tags: ['message-attempt'], params: params('app_id', 'msg_id', 'attempt_id'), response: { 200: S.attemptOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const m = await deps.messages.get(a.id, req.params.msg_id);
        const at = await store.getAttempt(a.id, m.id, req.params.attempt_id);
        if (!at) throw notFound('Message attempt');
        return attemptOut(at);
      },
    );

    app.delete(
      '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id/content',
      { schema: { tags: ['message-attempt'], params: params('app_id', 'msg_id', 'attempt_id'), response: { 204: S.noContent } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const m = await deps.messages.get(a.id, req.params.msg_id);
        const at = await store.getAttempt(a.id, m.id, req.params.attempt_id);
        if (!at) throw notFound('Message attempt');
        await store.expungeAttemptContent(a.id, m.id, at.id);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/app/:app_id/msg/:msg_id/endpoint',
      {
        schema: {
          tags: ['message-attempt'],
          params: params('app_id', 'msg_id'),
          querystring: { type: 'object', properties: S.pageQuery },
          response: { 200: S.listOf(S.messageEndpointOut) },
        },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const m = await deps.messages.get(a.id, req.params.msg_id);
        const page = await store.listMessageDestinations(a.id, m.id, pageOf(req.query));
        return listOut(page, (d) => ({ ...endpointOut(d.endpoint), ...deliveryStatusOut(d.status, d.nextAttemptAt) }));
      },
    );

    app.post(
      '/api/v1/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend',
      { schema: { tags: ['message-attempt'], params: params('app_id', 'msg_id', 'endpoint_id'), response: { 202: S.emptyOut } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const ep = await deps.endpoints.get(a.id, req.params.endpoint_id);
        await deps.messages.resend(a.id, req.params.msg_id, ep);
        // An EmptyResponse (`{}`), as in the reference: the svix SDK parses the body.
        return reply.code(202).send({});
      },
    );

    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/msg',
      {
        schema: {
          tags: ['message-attempt'],
          params: params('app_id', 'endpoint_id'),
          querystring: { ...attemptQuerySchema, properties: { ...attemptQuerySchema.properties, tag: { type: 'string', maxLength: 128 } } },
          response: { 200: S.listOf(S.endpointMessageOut) },
        },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const ep = await deps.endpoints.get(a.id, req.params.endpoint_id);
        const q = req.query;
        const page = await store.listEndpointMessages(a.id, ep.id, {
          ...pageOf(q),
          before: timeParam(q.before, ['query', 'before']),
          after: timeParam(q.after, ['query', 'after']),
          eventTypes: listParam(q.event_types),
          channel: q.channel,
          tag: q.tag,
          status: q.status,
        });
        return listOut(page, (d) => ({ ...messageOut(d.message, q.with_content !== false), ...deliveryStatusOut(d.status, d.nextAttemptAt) }));
      },
    );
  };

/** /api/v1/app/{app_id}/msg */
import type { FastifyReply } from 'fastify';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { conflict, notFound } from '../../../domain/errors.js';
import type { Message } from '../../../domain/model.js';
import type { IdempotentResponse } from '../../../storage/contract/store.js';
import { storedWithWrite } from '../../idempotency.js';
import { listOut, messageJson, messageOut } from '../../serialize.js';
import { usePayloadJsonParser } from '../../payload-json.js';
import * as S from '../../schemas.js';
import { listParam, listQueryArray, pageOf, timeParam } from '../common.js';
import { waitForMessages, waitQuery } from '../pull/polling-common.js';

const msgParams = {
  type: 'object',
  required: ['app_id', 'msg_id'],
  properties: { app_id: { type: 'string', minLength: 1, maxLength: 256 }, msg_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

const JSON_UTF8 = 'application/json; charset=utf-8';

export const messageRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.messages;
    // A payload is the sender's document: any key, `__proto__` included, is kept as sent.
    usePayloadJsonParser(app);

    app.post(
      '/api/v1/app/:app_id/msg',
      {
        schema: {
          tags: ['message'],
          params: S.appParams,
          body: S.messageIn,
          querystring: { type: 'object', properties: { with_content: { type: 'boolean', default: true } } },
          response: { 202: S.messageOut },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const a = await deps.applications.findOrCreate(req.params.app_id, b.application);
        if (!a) throw notFound('Application');
        const withContent = req.query.with_content !== false;
        // The payload text was just written by JSON.stringify: it goes out as it is (messageJson),
        // as text the response schema's serializer leaves alone. With an idempotency key, the
        // response is stored with the message, in its transaction.
        const respond = (m: Message): IdempotentResponse => ({ status: 202, body: messageJson(m, withContent), contentType: JSON_UTF8 });
        const r = await svc.publish(a, {
          eventType: b.eventType,
          eventId: b.eventId,
          channels: b.channels,
          tags: b.tags,
          payload: JSON.stringify(b.payload),
          orderingKey: b.orderingKey,
          idempotent: storedWithWrite(req, deps.clock.now(), respond),
        });
        if (r.kind === 'duplicate') throw conflict(`a message with this eventId already exists (${r.existingId})`);
        const text = req.idempotencyStored?.body ?? messageJson(r.message, withContent);
        return (reply as FastifyReply).code(202).type(JSON_UTF8).send(text);
      },
    );

    app.get(
      '/api/v1/app/:app_id/msg',
      {
        schema: {
          tags: ['message'],
          params: S.appParams,
          querystring: {
            type: 'object',
            properties: {
              ...S.pageQuery,
              before: S.S.dateTime,
              after: S.S.dateTime,
              event_types: listQueryArray,
              channel: { type: 'string', maxLength: 128 },
              tag: { type: 'string', maxLength: 128 },
              with_content: { type: 'boolean', default: true },
              wait: waitQuery,
            },
          },
          response: { 200: S.listOf(S.messageOut) },
        },
      },
      async (req, reply) => {
        const a = await deps.applications.get(req.params.app_id);
        const q = req.query;
        const query = {
          ...pageOf(q),
          before: timeParam(q.before, ['query', 'before']),
          after: timeParam(q.after, ['query', 'after']),
          eventTypes: listParam(q.event_types),
          channel: q.channel,
          tag: q.tag,
        };
        // `wait`: long polling, held while the page is empty (see docs/pull.md).
        const page = await waitForMessages(deps.pull, req, reply, a.id, query, q.wait, () => svc.list(a.id, query));
        return listOut(page, (m) => messageOut(m, q.with_content !== false));
      },
    );

    app.get(
      '/api/v1/app/:app_id/msg/:msg_id',
      {
        schema: {
          tags: ['message'],
          params: msgParams,
          querystring: { type: 'object', properties: { with_content: { type: 'boolean', default: true } } },
          response: { 200: S.messageOut },
        },
      },
      async (req) => {
        const a = await deps.applications.get(req.params.app_id);
        return messageOut(await svc.get(a.id, req.params.msg_id), req.query.with_content !== false);
      },
    );

    app.delete('/api/v1/app/:app_id/msg/:msg_id/content', { schema: { tags: ['message'], params: msgParams, response: { 204: S.noContent } } }, async (req, reply) => {
      const a = await deps.applications.get(req.params.app_id);
      await svc.expungeContent(a.id, req.params.msg_id);
      return reply.code(204).send();
    });
  };

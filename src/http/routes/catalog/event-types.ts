/** /api/v1/event-type */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { eventTypeOut, listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';

const nameParams = { type: 'object', required: ['event_type_name'], properties: { event_type_name: S.S.name256 } } as const;

export const eventTypeRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.eventTypes;

    app.get(
      '/api/v1/event-type',
      {
        schema: {
          tags: ['event-type'],
          querystring: {
            type: 'object',
            properties: { ...S.pageQuery, include_archived: { type: 'boolean', default: false }, with_content: { type: 'boolean', default: false } },
          },
          response: { 200: S.listOf(S.eventTypeOut) },
        },
      },
      async (req) => {
        const page = await svc.list({ ...pageOf(req.query), includeArchived: req.query.include_archived === true });
        return listOut(page, (e) => {
          const o = eventTypeOut(e);
          return req.query.with_content ? o : { ...o, schemas: undefined };
        });
      },
    );

    app.post(
      '/api/v1/event-type',
      { schema: { tags: ['event-type'], body: S.eventTypeIn, response: { 201: S.eventTypeOut } } },
      async (req, reply) => reply.code(201).send(eventTypeOut(await svc.create(req.body.name, req.body))),
    );

    app.get(
      '/api/v1/event-type/:event_type_name',
      { schema: { tags: ['event-type'], params: nameParams, response: { 200: S.eventTypeOut } } },
      async (req) => eventTypeOut(await svc.get(req.params.event_type_name)),
    );

    app.put(
      '/api/v1/event-type/:event_type_name',
      { schema: { tags: ['event-type'], params: nameParams, body: S.eventTypeUpdate, response: { 200: S.eventTypeOut, 201: S.eventTypeOut } } },
      async (req, reply) => {
        const { et, created } = await svc.upsert(req.params.event_type_name, req.body);
        return reply.code(created ? 201 : 200).send(eventTypeOut(et));
      },
    );

    app.patch(
      '/api/v1/event-type/:event_type_name',
      { schema: { tags: ['event-type'], params: nameParams, body: S.eventTypePatch, response: { 200: S.eventTypeOut } } },
      async (req) => eventTypeOut(await svc.patch(req.params.event_type_name, req.body)),
    );

    app.delete(
      '/api/v1/event-type/:event_type_name',
      {
        schema: {
          tags: ['event-type'],
          params: nameParams,
          querystring: { type: 'object', properties: { expunge: { type: 'boolean', default: false } } },
          response: { 204: S.noContent },
        },
      },
      async (req, reply) => {
        await svc.delete(req.params.event_type_name, req.query.expunge === true);
        return reply.code(204).send();
      },
    );
  };

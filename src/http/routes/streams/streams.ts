/** /api/v1/stream and /api/v1/stream/event-type: streams and the event types of streams. */
import type { StreamService } from '../../../bridges/streams/streams.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';
import * as X from './stream-schemas.js';
import { eventTypeOut, streamOut } from './stream-out.js';
import { scopedStream } from './stream-scope.js';

const tags = ['stream'];
const streamScope = { access: 'stream' as const };

export const streamResourceRoutes =
  (svc: StreamService): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/v1/stream',
      { schema: { tags, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(X.streamOut) } } },
      async (req) => listOut(await svc.list(pageOf(req.query)), streamOut),
    );

    app.post('/api/v1/stream', { schema: { tags, body: X.streamIn, response: { 201: X.streamOut } } }, async (req, reply) =>
      reply.code(201).send(streamOut(await svc.create(req.body))),
    );

    // Event types first: `event-type` is not a stream id.
    app.get(
      '/api/v1/stream/event-type',
      {
        schema: {
          tags,
          querystring: { type: 'object', properties: { ...S.pageQuery, include_archived: { type: 'boolean', default: false } } },
          response: { 200: S.listOf(X.eventTypeOut) },
        },
      },
      async (req) => listOut(await svc.listEventTypes({ ...pageOf(req.query), includeArchived: req.query.include_archived === true }), eventTypeOut),
    );

    app.post('/api/v1/stream/event-type', { schema: { tags, body: X.eventTypeIn, response: { 201: X.eventTypeOut } } }, async (req, reply) =>
      reply.code(201).send(eventTypeOut(await svc.createEventType(req.body.name, req.body))),
    );

    app.get('/api/v1/stream/event-type/:name', { schema: { tags, params: X.eventTypeParams, response: { 200: X.eventTypeOut } } }, async (req) =>
      eventTypeOut(await svc.getEventType(req.params.name)),
    );

    app.put(
      '/api/v1/stream/event-type/:name',
      { schema: { tags, params: X.eventTypeParams, body: X.eventTypeUpdate, response: { 200: X.eventTypeOut, 201: X.eventTypeOut } } },
      async (req, reply) => {
        const { et, created } = await svc.updateEventType(req.params.name, req.body, true);
        return reply.code(created ? 201 : 200).send(eventTypeOut(et));
      },
    );

    app.patch(
      '/api/v1/stream/event-type/:name',
      { schema: { tags, params: X.eventTypeParams, body: X.eventTypePatch, response: { 200: X.eventTypeOut } } },
      async (req) => eventTypeOut((await svc.updateEventType(req.params.name, req.body, false)).et),
    );

    app.delete(
      '/api/v1/stream/event-type/:name',
      {
        schema: {
          tags,
          params: X.eventTypeParams,
          querystring: { type: 'object', properties: { expunge: { type: 'boolean', default: false } } },
          response: { 204: S.noContent },
        },
      },
      async (req, reply) => {
        await svc.deleteEventType(req.params.name, req.query.expunge === true);
        return reply.code(204).send();
      },
    );

    app.get('/api/v1/stream/:stream_id', { config: streamScope, schema: { tags, params: X.streamParams, response: { 200: X.streamOut } } }, async (req) =>
      streamOut(await scopedStream(req, svc, req.params.stream_id)),
    );

    app.put(
      '/api/v1/stream/:stream_id',
      { schema: { tags, params: X.streamParams, body: X.streamIn, response: { 200: X.streamOut } } },
      async (req) => streamOut(await svc.update(req.params.stream_id, req.body, true)),
    );

    app.patch(
      '/api/v1/stream/:stream_id',
      { schema: { tags, params: X.streamParams, body: X.streamPatch, response: { 200: X.streamOut } } },
      async (req) => streamOut(await svc.update(req.params.stream_id, req.body, false)),
    );

    app.delete('/api/v1/stream/:stream_id', { schema: { tags, params: X.streamParams, response: { 204: S.noContent } } }, async (req, reply) => {
      await svc.delete(req.params.stream_id);
      return reply.code(204).send();
    });
  };

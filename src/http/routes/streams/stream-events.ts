/**
 * /api/v1/stream/{stream_id}/events (append, batch; `idempotency-key` replays the answer)
 * and /api/v1/stream/{stream_id}/sink/{sink_id}/events (a poller sink's events by iterator or time).
 */
import type { StreamService } from '../../../bridges/streams/streams.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { timeParam } from '../common.js';
import * as X from './stream-schemas.js';
import { eventOut } from './stream-out.js';
import { scopedSink } from './stream-scope.js';

const tags = ['stream-events'];

export const streamEventRoutes =
  (svc: StreamService): RoutePlugin =>
  async (app) => {
    app.post(
      '/api/v1/stream/:stream_id/events',
      {
        schema: {
          tags,
          summary: 'Append events to a stream (created from `stream` when missing)',
          params: X.streamParams,
          body: X.createEventsIn,
          response: { 202: { type: 'object', properties: {} } },
        },
      },
      async (req, reply) => {
        await svc.appendEvents(req.params.stream_id, req.body.events, req.body.stream);
        return reply.code(202).send({});
      },
    );

    app.get(
      '/api/v1/stream/:stream_id/sink/:sink_id/events',
      {
        config: { access: 'stream:poll' },
        schema: {
          tags,
          summary: "A poller sink's events after an iterator or a time (its poller token may read them)",
          params: X.sinkParams,
          querystring: X.eventsQuery,
          response: { 200: X.eventStreamOut },
        },
      },
      async (req) => {
        const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
        const page = await svc.readSinkEvents(sink, { iterator: req.query.iterator, after: timeParam(req.query.after, ['query', 'after']), limit: req.query.limit ?? 50 });
        return { data: page.data.map(eventOut), iterator: page.iterator, done: page.done };
      },
    );
  };

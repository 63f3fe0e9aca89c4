/**
 * Server-Sent Events: /api/v1/app/{app_id}/msg/stream and
 * /api/v1/app/{app_id}/poller/{sink_id}/consumer/{consumer_id}/stream. Each event's `id:` is
 * its position; reconnecting with `Last-Event-ID` resumes right after it. For clients or
 * proxies that cannot hold a stream, the message stream also long-polls: with `wait` it
 * answers the events ready in the same framing and ends, and with `Accept: application/json`
 * it answers one page of messages.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PullService } from '../../../bridges/pull/pull.js';
import { formatPosition, pollerFilter } from '../../../bridges/pull/pull-filter.js';
import { eventFrame, messageEventData, streamPreamble } from '../../../bridges/pull/sse-frames.js';
import type { LogFilter } from '../../../storage/contract/pull.js';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';
import { listParam, listQueryArray, timeParam } from '../common.js';
import { consumerParams, longPollHold, eventStreamOut, pollHeaders, pollOut, pollerOf, sendPoll, waitMs, waitQuery } from './polling-common.js';

/** The `Last-Event-ID` a reconnecting client sends, if any. */
function lastEventId(req: FastifyRequest): string | undefined {
  const v = req.headers['last-event-id'];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** True if the client asked for JSON rather than an event stream. */
function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/event-stream');
}

/** Takes the response over from Fastify and streams events on it. */
function openSse(reply: FastifyReply, pull: PullService, appId: string, filter: LogFilter, start: number): FastifyReply {
  pull.admitStream();
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // The connection ends with the stream: nothing idle is left to hold a stopping server open.
    connection: 'close',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  pull.openStream(reply.raw, appId, filter, start);
  return reply;
}

export const streamRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const pull = deps.pull;

    // Before the server waits for open requests to finish: streams and long polls end now.
    app.addHook('preClose', (done) => {
      pull.close();
      done();
    });

    app.get(
      '/api/v1/app/:app_id/msg/stream',
      {
        // A HEAD request would hold a stream open that can never carry a body.
        exposeHeadRoute: false,
        schema: {
          tags: ['message'],
          summary: "Stream the application's messages (Server-Sent Events)",
          description:
            'Starts after `Last-Event-ID` or `iterator`, else after `after`, else now. With `wait` it is a long poll instead: the events ready (waiting up to `wait` seconds for one) in the same framing, then the answer ends. With `Accept: application/json` it answers one page of messages, long-polled with `wait`.',
          params: S.appParams,
          querystring: {
            type: 'object',
            properties: {
              event_types: listQueryArray,
              channel: { type: 'string', maxLength: 128 },
              iterator: { type: 'string', maxLength: 64 },
              after: S.S.dateTime,
              limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
              wait: waitQuery,
            },
          },
          response: { 200: { description: 'The stream, or one long-polled answer', content: { 'text/event-stream': { schema: eventStreamOut }, 'application/json': { schema: pollOut } } } },
        },
      },
      async (req, reply) => {
        const a = await deps.applications.get(req.params.app_id);
        const q = req.query;
        const filter: LogFilter = { eventTypes: listParam(q.event_types) ?? null, channels: q.channel ? [q.channel] : null };
        const header = lastEventId(req);
        const start = await pull.startPosition(a.id, {
          iterator: header ?? q.iterator,
          loc: header !== undefined ? ['header', 'last-event-id'] : ['query', 'iterator'],
          after: timeParam(q.after, ['query', 'after']),
          origin: 'now',
        });
        if (wantsJson(req)) return sendPoll(reply, pull, await pull.readPage(a.id, start, q.limit, filter, waitMs(q.wait), longPollHold(req, reply)));
        if (q.wait !== undefined) {
          // Long polling in the stream's own framing: for clients behind proxies that buffer streams.
          const r = await pull.readPage(a.id, start, q.limit, filter, waitMs(q.wait), longPollHold(req, reply));
          const body = streamPreamble(start, pull.settings.retryMs) + r.messages.map((m) => eventFrame(formatPosition(m.seq), messageEventData(m.message))).join('');
          pollHeaders(reply, pull, r.done);
          return reply.type('text/event-stream; charset=utf-8').send(body);
        }
        return openSse(reply, pull, a.id, filter, start);
      },
    );

    app.get(
      '/api/v1/app/:app_id/poller/:sink_id/consumer/:consumer_id/stream',
      {
        exposeHeadRoute: false,
        config: { access: 'poller' },
        schema: {
          tags: ['message'],
          summary: "Stream a consumer's messages (Server-Sent Events)",
          description: "Reconnecting with `Last-Event-ID` commits that position as the consumer's cursor; without it the stream starts at the committed cursor.",
          params: consumerParams,
          response: { 200: { description: 'The stream', content: { 'text/event-stream': { schema: eventStreamOut } } } },
        },
      },
      async (req, reply) => {
        const a = await deps.applications.get(req.params.app_id);
        const pe = await pull.endpoints.readable(pollerOf(req), a.id, req.params.sink_id);
        const cursor = await pull.consumerCursor(pe, req.params.consumer_id, lastEventId(req), ['header', 'last-event-id']);
        await pull.ensureRetained(a.id, cursor);
        return openSse(reply, pull, a.id, pollerFilter(pe), cursor);
      },
    );
  };

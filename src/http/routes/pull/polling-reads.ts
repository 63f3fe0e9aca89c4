/**
 * /api/v1/app/{app_id}/poller/{sink_id}: reading a polling endpoint, compatible with the
 * svix SDK's `message.poller` (poll, consumerPoll, consumerSeek), plus `wait` for long
 * polling. Poller tokens may call these routes for their own endpoint only.
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';
import { nameSchema } from '../../openapi.js';
import { timeParam } from '../common.js';
import { consumerParams, longPollHold, pollOut, pollerOf, pollerParams, sendPoll, waitMs, waitQuery } from './polling-common.js';

const seekIn = { type: 'object', required: ['after'], properties: { after: S.S.dateTime } } as const;
const seekOut = { type: 'object', required: ['iterator'], properties: { iterator: { type: 'string' } } } as const;
nameSchema('PollingEndpointConsumerSeekIn', seekIn);
nameSchema('PollingEndpointConsumerSeekOut', seekOut);

const limit = { type: 'integer', minimum: 1, maximum: 250, default: 50 } as const;
const iterator = { type: ['string', 'null'], maxLength: 64 } as const;

export const pollingReadRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const pull = deps.pull;
    const tags = ['message'];

    app.get(
      '/api/v1/app/:app_id/poller/:sink_id',
      {
        config: { access: 'poller' },
        schema: {
          tags,
          summary: 'Poll a polling endpoint',
          params: pollerParams,
          querystring: {
            type: 'object',
            properties: {
              limit,
              iterator,
              event_type: { ...S.S.name256, type: ['string', 'null'] },
              channel: { type: ['string', 'null'], maxLength: 128, pattern: '^[a-zA-Z0-9\\-_.:+]+$' },
              after: { type: ['string', 'null'], format: 'date-time' },
              wait: waitQuery,
            },
          },
          response: { 200: pollOut },
        },
      },
      async (req, reply) => {
        const a = await deps.applications.get(req.params.app_id);
        const pe = await pull.endpoints.readable(pollerOf(req), a.id, req.params.sink_id);
        const q = req.query;
        const r = await pull.poll(
          pe,
          {
            iterator: q.iterator ?? undefined,
            limit: q.limit,
            eventType: q.event_type ?? undefined,
            channel: q.channel ?? undefined,
            after: timeParam(q.after, ['query', 'after']),
            waitMs: waitMs(q.wait),
          },
          longPollHold(req, reply),
        );
        return sendPoll(reply, pull, r);
      },
    );

    app.get(
      '/api/v1/app/:app_id/poller/:sink_id/consumer/:consumer_id',
      {
        config: { access: 'poller' },
        schema: {
          tags,
          summary: 'Poll as a consumer with a server-kept cursor',
          description: 'Passing the iterator of the previous answer commits it; without one, reading resumes at the committed cursor.',
          params: consumerParams,
          querystring: { type: 'object', properties: { limit, iterator, wait: waitQuery } },
          response: { 200: pollOut },
        },
      },
      async (req, reply) => {
        const a = await deps.applications.get(req.params.app_id);
        const pe = await pull.endpoints.readable(pollerOf(req), a.id, req.params.sink_id);
        const q = req.query;
        const r = await pull.consumerPoll(pe, req.params.consumer_id, { iterator: q.iterator ?? undefined, limit: q.limit, waitMs: waitMs(q.wait) }, longPollHold(req, reply));
        return sendPoll(reply, pull, r);
      },
    );

    app.post(
      '/api/v1/app/:app_id/poller/:sink_id/consumer/:consumer_id/seek',
      {
        config: { access: 'poller' },
        schema: {
          tags,
          summary: "Move a consumer's cursor to a time",
          params: consumerParams,
          body: seekIn,
          response: { 200: seekOut },
        },
      },
      async (req) => {
        const a = await deps.applications.get(req.params.app_id);
        const pe = await pull.endpoints.readable(pollerOf(req), a.id, req.params.sink_id);
        const after = timeParam(req.body.after, ['body', 'after'])!;
        return { iterator: await pull.seek(pe, req.params.consumer_id, after) };
      },
    );
  };

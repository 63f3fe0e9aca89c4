/**
 * Push operations of the compatible API beyond publish and read: bulk replay of an
 * endpoint's messages and the purge of every message's content of an application (each a
 * background task), and the precheck that tells whether any enabled endpoint wants a
 * message before it is published.
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';
import { timeParam } from '../common.js';
import { taskStartedOut } from './background-tasks.js';

const epParams = {
  type: 'object',
  required: ['app_id', 'endpoint_id'],
  properties: { app_id: { type: 'string', minLength: 1, maxLength: 256 }, endpoint_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

const bulkReplayIn = {
  type: 'object',
  required: ['since'],
  additionalProperties: false,
  properties: {
    since: S.S.dateTime,
    until: { ...S.S.dateTime, type: ['string', 'null'] },
    channel: { type: ['string', 'null'], maxLength: 128 },
    eventTypes: { type: ['array', 'null'], items: { type: 'string', maxLength: 256 }, maxItems: 250 },
    status: { type: ['integer', 'null'], enum: [0, 1, 2, 3, null], description: 'The delivery status to this endpoint: 0 success, 1 pending, 2 fail, 3 sending' },
    statusCodeClass: { type: ['integer', 'null'], enum: [0, 100, 200, 300, 400, 500, null], description: 'Only messages with an attempt answered in this class (0: no response)' },
    tag: { type: ['string', 'null'], maxLength: 128 },
  },
} as const;

const precheckIn = {
  type: 'object',
  required: ['eventType'],
  properties: {
    eventType: { type: 'string', minLength: 1, maxLength: 256 },
    channels: { type: ['array', 'null'], items: { type: 'string', maxLength: 128 }, maxItems: 10 },
  },
} as const;

const precheckOut = { type: 'object', required: ['active'], properties: { active: { type: 'boolean' } } } as const;

export const bulkOperationRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const appOf = (id: string) => deps.applications.get(id);

    app.post(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/bulk-replay',
      {
        schema: {
          tags: ['endpoint'],
          summary: 'Sends again the messages the endpoint got in a window, chosen by filters (a background task)',
          params: epParams,
          body: bulkReplayIn,
          response: { 202: S.taskOut },
        },
      },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const ep = await deps.endpoints.get(a.id, req.params.endpoint_id);
        const b = req.body;
        const since = timeParam(b.since, ['body', 'since'])!;
        const until = timeParam(b.until, ['body', 'until']) ?? null;
        const task = await deps.tasks.start('endpoint.bulk-replay', a.id, {
          appId: a.id,
          endpointId: ep.id,
          since,
          until,
          ...(b.channel ? { channel: b.channel } : {}),
          ...(b.eventTypes && b.eventTypes.length > 0 ? { eventTypes: b.eventTypes } : {}),
          ...(b.tag ? { tag: b.tag } : {}),
          ...(typeof b.status === 'number' ? { status: b.status } : {}),
          ...(typeof b.statusCodeClass === 'number' ? { statusCodeClass: b.statusCodeClass } : {}),
        });
        return reply.code(202).send(taskStartedOut(task));
      },
    );

    app.post(
      '/api/v1/app/:app_id/msg/expunge-all-contents',
      {
        schema: {
          tags: ['message'],
          summary: 'Deletes the content of every message of the application (a background task)',
          params: S.appParams,
          response: { 202: S.taskOut },
        },
      },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const task = await deps.tasks.start('application.purge_content', a.id, { appId: a.id });
        return reply.code(202).send(taskStartedOut(task));
      },
    );

    app.post(
      '/api/v1/app/:app_id/msg/precheck/active',
      {
        schema: {
          tags: ['message'],
          summary: 'Whether any enabled endpoint wants a message of this event type and channels',
          description: 'An endpoint with a payload filter counts as wanting it: the payload is not known yet.',
          params: S.appParams,
          body: precheckIn,
          response: { 200: precheckOut },
        },
        config: { access: 'app:publish' },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const channels = req.body.channels && req.body.channels.length > 0 ? req.body.channels : null;
        return { active: (await deps.endpoints.matching(a.id, req.body.eventType, channels)).length > 0 };
      },
    );
  };

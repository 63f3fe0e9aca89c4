/** /api/v1/background-task: background tasks by id, and their listing (organisation admins). */
import type { BackgroundTask, BackgroundTaskService } from '../../../bridges/push/background-tasks.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';

export const TASK_KINDS = [
  'endpoint.replay',
  'endpoint.recover',
  'application.stats',
  'message.broadcast',
  'sdk.generate',
  'event-type.aggregate',
  'application.purge_content',
  'endpoint.bulk-replay',
] as const;

/** A task as the API shows it, with its result. */
export function backgroundTaskOut(t: BackgroundTask) {
  return { id: t.id, status: t.status, task: t.task, updatedAt: new Date(t.updatedAt).toISOString(), data: t.data };
}

/** A task just started, as the routes that start one answer (202). */
export function taskStartedOut(t: BackgroundTask) {
  return { id: t.id, status: t.status, task: t.task, updatedAt: new Date(t.updatedAt).toISOString() };
}

export const backgroundTaskRoutes =
  (tasks: BackgroundTaskService): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/v1/background-task',
      {
        schema: {
          tags: ['background-task'],
          summary: 'Background tasks, newest first',
          querystring: {
            type: 'object',
            properties: {
              ...S.pageQuery,
              status: { type: 'string', enum: ['running', 'finished', 'failed'] },
              task: { type: 'string', enum: TASK_KINDS },
            },
          },
          response: { 200: S.listOf(S.backgroundTaskOut) },
        },
      },
      async (req) => {
        const task = req.query.task;
        // Kinds this server never runs have no tasks: an empty page, as for any filter matching none.
        if (task === 'message.broadcast' || task === 'sdk.generate') return { data: [], iterator: null, prevIterator: null, done: true };
        return listOut(await tasks.list({ ...pageOf(req.query), status: req.query.status, task }), backgroundTaskOut);
      },
    );

    app.get(
      '/api/v1/background-task/:task_id',
      {
        schema: {
          tags: ['background-task'],
          summary: 'One background task, with its status and result',
          params: { type: 'object', required: ['task_id'], properties: { task_id: { type: 'string', minLength: 1, maxLength: 256 } } },
          response: { 200: S.backgroundTaskOut },
        },
      },
      async (req) => backgroundTaskOut(await tasks.get(req.params.task_id)),
    );
  };

/**
 * Statistics of the compatible API: active applications and endpoint counts (answered at
 * once), an application's attempts per period, and the usage aggregations (messages per
 * application, event types seen), which start background tasks. Organisation admins only,
 * except the attempts of one application, which its read credentials may see.
 */
import { AppError, invalid } from '../../../domain/errors.js';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import * as S from '../../schemas.js';
import { timeParam } from '../common.js';
import { taskStartedOut } from '../push/background-tasks.js';

const PERIOD_MS = { OneDay: 86_400_000, OneHour: 3_600_000, FiveMinutes: 300_000 } as const;
/** The most data points one answer holds. */
const MAX_POINTS = 2016;
/** The window when none is given: the last 7 days. */
const DEFAULT_WINDOW_MS = 7 * 86_400_000;

const excludePlay = { type: 'boolean', default: true, description: 'Accepted for compatibility: no endpoint here points to a play URL' } as const;

const appUsageIn = {
  type: 'object',
  required: ['since', 'until'],
  properties: {
    since: S.S.dateTime,
    until: S.S.dateTime,
    appIds: { type: ['array', 'null'], items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 250, uniqueItems: true },
  },
} as const;

const appUsageOut = {
  type: 'object',
  required: [...S.taskOut.required, 'unresolvedAppIds'],
  properties: { ...S.taskOut.properties, unresolvedAppIds: { type: 'array', items: { type: 'string' } } },
} as const;

const attemptStatsOut = {
  type: 'object',
  required: ['startDate', 'endDate', 'period', 'data'],
  properties: {
    startDate: S.S.dateTime,
    endDate: S.S.dateTime,
    period: { type: 'string', enum: ['OneDay', 'OneHour', 'FiveMinutes'] },
    data: {
      type: 'object',
      properties: {
        successCount: { type: ['array', 'null'], items: { type: 'integer' } },
        failureCount: { type: ['array', 'null'], items: { type: 'integer' } },
        canceledCount: { type: ['array', 'null'], items: { type: 'integer' } },
      },
    },
  },
} as const;

export const usageStatsRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/v1/app/stats/count-active',
      {
        schema: {
          tags: ['statistics'],
          summary: 'How many applications have an endpoint (an enabled one, unless exclude_disabled=false)',
          querystring: { type: 'object', properties: { exclude_disabled: { type: 'boolean', default: true }, exclude_svix_play: excludePlay } },
          response: { 200: { type: 'object', required: ['count'], properties: { count: { type: 'integer', minimum: 0 } } } },
        },
        config: { access: 'admin' },
      },
      async (req) => ({ count: await deps.store.usage.countActiveApplications(req.query.exclude_disabled ?? true) }),
    );

    app.get(
      '/api/v1/stats/endpoint/count',
      {
        schema: {
          tags: ['statistics'],
          summary: 'How many endpoints all applications have, enabled and disabled',
          querystring: { type: 'object', properties: { exclude_svix_play: excludePlay } },
          response: { 200: { type: 'object', required: ['active', 'disabled'], properties: { active: { type: 'integer', minimum: 0 }, disabled: { type: 'integer', minimum: 0 } } } },
        },
      },
      async () => deps.store.usage.countEndpoints(),
    );

    app.get(
      '/api/v1/stats/app/:app_id/attempt',
      {
        schema: {
          tags: ['statistics'],
          summary: 'Successful and failed attempts of one application per period',
          params: S.appParams,
          querystring: {
            type: 'object',
            properties: {
              startDate: S.S.dateTime,
              endDate: S.S.dateTime,
              period: { type: 'string', enum: ['OneDay', 'OneHour', 'FiveMinutes'], default: 'OneDay' },
              event_types: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 0, description: 'Not supported: refused when given' },
            },
          },
          response: { 200: attemptStatsOut },
        },
        config: { access: 'app:read' },
      },
      async (req) => {
        const a = await deps.applications.get(req.params.app_id);
        const period = req.query.period ?? 'OneDay';
        const step = PERIOD_MS[period];
        const end = timeParam(req.query.endDate, ['query', 'endDate']) ?? deps.clock.now();
        const start = timeParam(req.query.startDate, ['query', 'startDate']) ?? end - DEFAULT_WINDOW_MS;
        if (start >= end) throw invalid(['query', 'startDate'], 'startDate must be before endDate');
        // Periods start on their boundary (UTC), so consecutive calls line up.
        const since = Math.floor(start / step) * step;
        if ((end - since) / step > MAX_POINTS) throw invalid(['query', 'period'], `at most ${MAX_POINTS} periods per request; choose a longer period or a shorter window`);
        const stats = await deps.store.appAttemptStats(a.id, since, end, step);
        return {
          startDate: new Date(since).toISOString(),
          endDate: new Date(end).toISOString(),
          period,
          data: {
            successCount: stats.buckets.map((b) => b.success),
            failureCount: stats.buckets.map((b) => b.failure),
            canceledCount: stats.buckets.map(() => 0),
          },
        };
      },
    );

    app.post(
      '/api/v1/stats/usage/app',
      {
        schema: {
          tags: ['statistics'],
          summary: 'Counts the messages of applications in a window (a background task; its data lists `apps`)',
          body: appUsageIn,
          response: { 202: appUsageOut },
        },
      },
      async (req, reply) => {
        const since = timeParam(req.body.since, ['body', 'since'])!;
        const until = timeParam(req.body.until, ['body', 'until'])!;
        if (since >= until) throw invalid(['body', 'since'], 'since must be before until');
        let appIds: string[] | null = null;
        const unresolved: string[] = [];
        if (req.body.appIds && req.body.appIds.length > 0) {
          appIds = [];
          for (const idOrUid of req.body.appIds) {
            const found = await deps.applications.find(idOrUid);
            if (found) appIds.push(found.id);
            else unresolved.push(idOrUid);
          }
          if (appIds.length === 0) throw new AppError('not_found', `no application found among ${unresolved.join(', ')}`);
        }
        const task = await deps.tasks.start('application.stats', null, { appIds, since, until });
        return reply.code(202).send({ ...taskStartedOut(task), unresolvedAppIds: unresolved });
      },
    );

    app.put(
      '/api/v1/stats/usage/event-types',
      {
        schema: {
          tags: ['statistics'],
          summary: 'Collects the event types seen in messages (a background task; its data lists `eventTypes`)',
          response: { 202: S.taskOut },
        },
      },
      async (_req, reply) => reply.code(202).send(taskStartedOut(await deps.tasks.start('event-type.aggregate', null, {}))),
    );
  };

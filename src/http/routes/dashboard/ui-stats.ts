/**
 * Delivery statistics of one application: `GET /api/v1/app/{app_id}/stats/attempts` (compatible
 * shape) and `GET /api/v1/app/{app_id}/stats/overview` (Switchboard's own: a time series of
 * attempts and latency plus the queue, for the dashboard's charts).
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { invalid } from '../../../domain/errors.js';
import * as S from '../../schemas.js';
import { listParam, listQueryArray, timeParam } from '../common.js';

/** Most buckets one overview answers with. */
export const MAX_BUCKETS = 500;
const DAY_MS = 86_400_000;

const iso = (ms: number): string => new Date(ms).toISOString();
const count = { type: 'integer', minimum: 0 } as const;

const attemptsOut = {
  type: 'object',
  required: ['by_event_type', 'since', 'until', 'total_success', 'total_failure', 'total_canceled'],
  properties: {
    by_event_type: {
      type: 'object',
      additionalProperties: { type: 'object', required: ['success', 'failure', 'canceled'], properties: { success: count, failure: count, canceled: count } },
    },
    total_success: count,
    total_failure: count,
    total_canceled: count,
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
  },
} as const;

const overviewOut = {
  type: 'object',
  required: ['since', 'until', 'bucketSeconds', 'totalSuccess', 'totalFailure', 'series', 'queue'],
  properties: {
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    bucketSeconds: { type: 'integer' },
    totalSuccess: count,
    totalFailure: count,
    series: {
      type: 'array',
      items: {
        type: 'object',
        required: ['start', 'success', 'failure', 'avgDurationMs', 'maxDurationMs'],
        properties: {
          start: { type: 'string', format: 'date-time' },
          success: count,
          failure: count,
          avgDurationMs: { type: ['number', 'null'] },
          maxDurationMs: { type: ['integer', 'null'] },
        },
      },
    },
    queue: {
      type: 'object',
      required: ['pending', 'sending', 'oldestPendingAt'],
      properties: { pending: count, sending: count, oldestPendingAt: { type: ['string', 'null'], format: 'date-time' } },
    },
  },
} as const;

/** The window [since, until): defaults to the last day; at most 31 days. */
function windowOf(q: { since?: string; until?: string }, now: number): { since: number; until: number } {
  const until = timeParam(q.until, ['query', 'until']) ?? now;
  const since = timeParam(q.since, ['query', 'since']) ?? until - DAY_MS;
  if (since >= until) throw invalid(['query', 'since'], 'since must be before until');
  if (until - since > 31 * DAY_MS) throw invalid(['query', 'since'], 'the window is at most 31 days');
  return { since, until };
}

export const uiStatsRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/v1/app/:app_id/stats/attempts',
      {
        schema: {
          tags: ['application'],
          summary: "Counts of the application's attempts by event type",
          params: S.appParams,
          querystring: { type: 'object', properties: { since: S.S.dateTime, until: S.S.dateTime, event_types: listQueryArray } },
          response: { 200: attemptsOut },
        },
      },
      async (req) => {
        const a = await deps.applications.get(req.params.app_id);
        const { since, until } = windowOf(req.query, deps.clock.now());
        const stats = await deps.store.appAttemptStats(a.id, since, until, until - since);
        const only = listParam(req.query.event_types);
        const byType: Record<string, { success: number; failure: number; canceled: number }> = {};
        let ok = 0;
        let bad = 0;
        for (const [name, c] of Object.entries(stats.byEventType)) {
          if (only && !only.includes(name)) continue;
          byType[name] = { ...c, canceled: 0 };
          ok += c.success;
          bad += c.failure;
        }
        return { by_event_type: byType, total_success: ok, total_failure: bad, total_canceled: 0, since: iso(since), until: iso(until) };
      },
    );

    app.get(
      '/api/v1/app/:app_id/stats/overview',
      {
        schema: {
          tags: ['application'],
          summary: 'Attempts and response times over time, and the delivery queue',
          description: 'A time series of successful and failed attempts with average and slowest response time per bucket, and the deliveries not finished yet.',
          params: S.appParams,
          querystring: {
            type: 'object',
            properties: { since: S.S.dateTime, until: S.S.dateTime, bucket_seconds: { type: 'integer', minimum: 10, maximum: DAY_MS / 1000, default: 3600 } },
          },
          response: { 200: overviewOut },
        },
      },
      async (req) => {
        const a = await deps.applications.get(req.params.app_id);
        const { since, until } = windowOf(req.query, deps.clock.now());
        const bucketMs = (req.query.bucket_seconds ?? 3600) * 1000;
        if ((until - since) / bucketMs > MAX_BUCKETS) throw invalid(['query', 'bucket_seconds'], `at most ${MAX_BUCKETS} buckets: choose larger buckets or a shorter window`);
        const stats = await deps.store.appAttemptStats(a.id, since, until, bucketMs);
        let ok = 0;
        let bad = 0;
        const series = stats.buckets.map((b) => {
          ok += b.success;
          bad += b.failure;
          const n = b.success + b.failure;
          return {
            start: iso(b.start),
            success: b.success,
            failure: b.failure,
            avgDurationMs: n ? Math.round((b.durationSumMs / n) * 10) / 10 : null,
            maxDurationMs: n ? b.maxDurationMs : null,
          };
        });
        const q = stats.queue;
        return {
          since: iso(since),
          until: iso(until),
          bucketSeconds: bucketMs / 1000,
          totalSuccess: ok,
          totalFailure: bad,
          series,
          queue: { pending: q.pending, sending: q.sending, oldestPendingAt: q.oldestPendingAt === null ? null : iso(q.oldestPendingAt) },
        };
      },
    );
  };

/**
 * Cron sources: publish a fixed payload on a schedule. The config follows the reference
 * API (`schedule`, `payload`, `contentType`), with Switchboard's optional `eventType` and
 * `timezone`.
 */
import { createRequire } from 'node:module';
import type { CronExpressionParser as Parser } from 'cron-parser';
import { invalid } from '../errors.js';
import { optionalString, requiredString } from '../providers/util.js';
import { toEventType } from '../providers/mapping.js';

export const CRON_DEFAULT_EVENT_TYPE = 'cron.tick';

/** cron-parser is loaded when a schedule is first read: a server without cron sources never pays for it. */
let parser: typeof Parser | null = null;
const cronParser = (): typeof Parser => (parser ??= (createRequire(import.meta.url)('cron-parser') as { CronExpressionParser: typeof Parser }).CronExpressionParser);

export interface CronConfig {
  schedule: string;
  payload: string;
  contentType: string | null;
  eventType: string;
  timezone: string;
}

const isJson = (ct: string | null): boolean => ct === null || /^application\/(.+\+)?json\b/i.test(ct.trim());

/** Validates a cron source's config; throws a 422 naming the field. */
export function parseCronConfig(raw: Record<string, unknown>): CronConfig {
  const schedule = requiredString(raw, 'schedule', 256);
  const payload = requiredString(raw, 'payload', 1024 * 1024);
  const contentType = optionalString(raw, 'contentType', 256);
  const timezone = optionalString(raw, 'timezone', 64) ?? 'UTC';
  const eventType = toEventType(optionalString(raw, 'eventType', 256), CRON_DEFAULT_EVENT_TYPE);
  try {
    cronParser().parse(schedule, { tz: timezone }).next();
  } catch (e: unknown) {
    throw invalid(['body', 'config', 'schedule'], `config.schedule is not a valid cron expression (or config.timezone is unknown): ${(e as Error).message}`);
  }
  if (isJson(contentType)) {
    let v: unknown;
    try {
      v = JSON.parse(payload);
    } catch {
      throw invalid(['body', 'config', 'payload'], 'config.payload is not valid JSON; set config.contentType for other payloads');
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(['body', 'config', 'payload'], 'a JSON config.payload must be an object');
  }
  return { schedule, payload, contentType, eventType, timezone };
}

/** The config as shown back (it holds no secret). */
export function publicCronConfig(c: CronConfig): Record<string, unknown> {
  return { schedule: c.schedule, payload: c.payload, contentType: c.contentType, eventType: c.eventType, timezone: c.timezone };
}

/** The first scheduled time strictly after `afterMs`. */
export function nextCronTime(c: CronConfig, afterMs: number): number {
  return cronParser().parse(c.schedule, { currentDate: new Date(afterMs), tz: c.timezone }).next().getTime();
}

/** The message payload: the JSON object as given, or `{"contentType", "body"}` for other payloads. */
export function cronPayload(c: CronConfig): string {
  return isJson(c.contentType) ? c.payload : JSON.stringify({ contentType: c.contentType, body: c.payload });
}

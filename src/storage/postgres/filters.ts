/** WHERE conditions of message and attempt listings on PostgreSQL, their values added to `Params`. */
import type { AttemptQuery } from '../contract/attempts.js';
import type { MessageQuery } from '../contract/messages.js';
import type { Params } from './paging.js';

/** Conditions of a message listing. */
export function messageFilters(p: Params, q: MessageQuery): string[] {
  const where: string[] = [];
  if (q.before !== undefined) where.push(`created_at < ${p.add(q.before)}`);
  if (q.after !== undefined) where.push(`created_at > ${p.add(q.after)}`);
  if (q.eventTypes && q.eventTypes.length > 0) where.push(`event_type = ANY(${p.add(q.eventTypes)}::text[])`);
  if (q.channel !== undefined) where.push(`channels @> jsonb_build_array(${p.add(q.channel)}::text)`);
  if (q.tag !== undefined) where.push(`tags @> jsonb_build_array(${p.add(q.tag)}::text)`);
  return where;
}

/** Conditions of an attempt listing (the attempts table is aliased `t`). */
export function attemptFilters(p: Params, q: AttemptQuery): string[] {
  const where: string[] = [];
  if (q.status !== undefined) where.push(`status = ${p.add(q.status)}`);
  if (q.statusCodeClass !== undefined) {
    if (q.statusCodeClass === 0) where.push('response_status_code = 0');
    else where.push(`response_status_code >= ${p.add(q.statusCodeClass)} AND response_status_code < ${p.add(q.statusCodeClass + 100)}`);
  }
  if (q.endpointId !== undefined) where.push(`endpoint_id = ${p.add(q.endpointId)}`);
  if (q.before !== undefined) where.push(`created_at < ${p.add(q.before)}`);
  if (q.after !== undefined) where.push(`created_at > ${p.add(q.after)}`);
  if (q.eventTypes && q.eventTypes.length > 0) {
    where.push(`EXISTS (SELECT 1 FROM messages m WHERE m.app_id = t.app_id AND m.id = t.message_id AND m.event_type = ANY(${p.add(q.eventTypes)}::text[]))`);
  }
  if (q.channel !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM messages m WHERE m.app_id = t.app_id AND m.id = t.message_id AND m.channels @> jsonb_build_array(${p.add(q.channel)}::text))`);
  }
  return where;
}

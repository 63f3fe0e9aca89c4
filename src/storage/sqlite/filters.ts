/** WHERE conditions of message and attempt listings on SQLite, with their placeholder values. */
import type { AttemptQuery } from '../contract/attempts.js';
import type { MessageQuery } from '../contract/messages.js';

/** Conditions of a message listing (columns prefixed with `prefix`). */
export function messageFilters(prefix: string, q: MessageQuery): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.before !== undefined) {
    where.push(`${prefix}created_at < ?`);
    args.push(q.before);
  }
  if (q.after !== undefined) {
    where.push(`${prefix}created_at > ?`);
    args.push(q.after);
  }
  if (q.eventTypes && q.eventTypes.length > 0) {
    // One parameter, a JSON array: the statement's text stays the same whatever the count, so it is prepared once.
    where.push(`${prefix}event_type IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(q.eventTypes));
  }
  if (q.channel !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM json_each(${prefix}channels) WHERE value = ?)`);
    args.push(q.channel);
  }
  if (q.tag !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM json_each(${prefix}tags) WHERE value = ?)`);
    args.push(q.tag);
  }
  return { where, args };
}

/** Conditions of an attempt listing. */
export function attemptFilters(q: AttemptQuery): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.status !== undefined) {
    where.push('status = ?');
    args.push(q.status);
  }
  if (q.statusCodeClass !== undefined) {
    if (q.statusCodeClass === 0) where.push('response_status_code = 0');
    else {
      where.push('response_status_code >= ? AND response_status_code < ?');
      args.push(q.statusCodeClass, q.statusCodeClass + 100);
    }
  }
  if (q.endpointId !== undefined) {
    where.push('endpoint_id = ?');
    args.push(q.endpointId);
  }
  if (q.before !== undefined) {
    where.push('created_at < ?');
    args.push(q.before);
  }
  if (q.after !== undefined) {
    where.push('created_at > ?');
    args.push(q.after);
  }
  if (q.eventTypes && q.eventTypes.length > 0) {
    where.push('message_id IN (SELECT id FROM messages WHERE event_type IN (SELECT value FROM json_each(?)))');
    args.push(JSON.stringify(q.eventTypes));
  }
  if (q.channel !== undefined) {
    where.push('message_id IN (SELECT m.id FROM messages m, json_each(m.channels) c WHERE c.value = ?)');
    args.push(q.channel);
  }
  return { where, args };
}

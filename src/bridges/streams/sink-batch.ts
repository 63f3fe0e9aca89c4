/**
 * The two decisions a sink's delivery round makes about the events it read: whether the batch
 * goes out now or waits for more (batch size and max wait), and where the sink's cursor moves
 * once it went out (past events the sink's event-type filter skipped, too).
 */
import type { StreamEvent } from '../../storage/contract/streams.js';

/** Send the batch now, or leave it until `dueAt` (or until enough events arrive to fill it). */
export type BatchDecision = { kind: 'deliver' } | { kind: 'wait'; dueAt: number };

/**
 * A full batch goes at once; a partial one waits until its oldest event is `maxWaitSecs` old
 * (0: never waits). `events` is oldest first and not empty.
 */
export function batchDecision(events: readonly StreamEvent[], batchSize: number, maxWaitSecs: number, now: number): BatchDecision {
  if (events.length >= batchSize || maxWaitSecs <= 0) return { kind: 'deliver' };
  const dueAt = events[0]!.createdAt + maxWaitSecs * 1000;
  return dueAt <= now ? { kind: 'deliver' } : { kind: 'wait', dueAt };
}

/**
 * The cursor after `events` (read with `limit`, after the sink's cursor) were delivered.
 * `lastSeqBefore` is the stream's last seq read BEFORE the events were: when the read returned
 * fewer than `limit` events, every event up to it that was not returned was filtered out, so
 * the cursor may move past it; events appended after that read are never skipped.
 */
export function cursorAfter(events: readonly StreamEvent[], limit: number, lastSeqBefore: number, cursor: number): number {
  const lastRead = events.length > 0 ? events[events.length - 1]!.seq : cursor;
  return events.length < limit ? Math.max(lastRead, lastSeqBefore, cursor) : Math.max(lastRead, cursor);
}

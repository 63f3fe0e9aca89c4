/** Pure helpers of the pull side: which messages a reader wants, and its positions. */
import { AppError, invalid } from '../../domain/errors.js';
import type { Message } from '../../domain/model.js';
import type { LogFilter, PollingEndpoint } from '../../storage/contract/pull.js';

/** True if the message passes the filter, exactly as the store's `readLog` decides. */
export function logFilterMatches(f: LogFilter, m: Message): boolean {
  if (f.eventTypes && !f.eventTypes.includes(m.eventType)) return false;
  if (f.channels && !(m.channels ?? []).some((c) => f.channels!.includes(c))) return false;
  if (f.tags && !(m.tags ?? []).some((t) => f.tags!.includes(t))) return false;
  return true;
}

/**
 * A polling endpoint's filter narrowed by a poll's `event_type` and `channel`: a value the
 * endpoint does not allow leaves an empty list, which matches nothing.
 */
export function pollerFilter(pe: Pick<PollingEndpoint, 'eventTypes' | 'channels'>, eventType?: string, channel?: string): LogFilter {
  const narrow = (allowed: string[] | null, wanted: string | undefined): string[] | null => {
    if (wanted === undefined) return allowed;
    return allowed === null || allowed.includes(wanted) ? [wanted] : [];
  };
  return { eventTypes: narrow(pe.eventTypes, eventType), channels: narrow(pe.channels, channel) };
}

/** Positions travel as decimal strings: iterators, `Last-Event-ID`, SSE `id:`. */
export function formatPosition(seq: number): string {
  return String(seq);
}

/** Parses an iterator or event id; anything else is a 422 at `loc`. */
export function parsePosition(value: string, loc: (string | number)[]): number {
  if (!/^\d{1,15}$/.test(value)) throw invalid(loc, 'not an iterator of this log: pass back an iterator or event id from an earlier response');
  return Number(value);
}

/** The 410 for a position below the retention horizon. */
export function expired(position: number, horizon: number): AppError {
  return new AppError(
    'iterator_expired',
    `messages after position ${position} were deleted by retention (the oldest position still readable is ${horizon}); ` +
      'start again without an iterator, or seek the consumer to a time',
  );
}

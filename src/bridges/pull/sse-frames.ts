/**
 * The bytes of a Server-Sent Events stream: the preamble, one frame per message, and a read
 * page encoded once for every stream that writes it (streams at the same position share
 * one read, and with it these bytes).
 */
import type { Message } from '../../domain/model.js';
import type { LogRead } from '../../storage/contract/pull.js';
import { formatPosition } from './pull-filter.js';

/**
 * The event's `data:`: the message as the API shows it, with the payload text placed last
 * exactly as stored, so a client can take its bytes unchanged (`switchboard listen` does).
 */
export function messageEventData(m: Message): string {
  const meta = JSON.stringify({
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId ?? undefined,
    channels: m.channels ?? undefined,
    tags: m.tags ?? undefined,
    timestamp: new Date(m.createdAt).toISOString(),
  });
  let payload = m.payload ?? '{}';
  // SSE splits lines on CR as well as LF; a payload with a raw CR travels re-serialised.
  if (payload.includes('\r')) payload = JSON.stringify(JSON.parse(payload));
  return meta.slice(0, -1) + ',"payload":' + payload + '}';
}

/** The name of the event that carries the stream's start position. */
export const POSITION_EVENT = 'position';

/**
 * The first lines of a stream: a comment, the `retry:` hint and a `position` event whose id
 * is the start position. Its id sets the client's last event id before any message arrives,
 * so a client reconnecting before the first message still resumes from here. It carries
 * data (the position again) because clients that see an id without data take it for a
 * broken event; being named, it never reaches an `EventSource`'s `onmessage`.
 */
export function streamPreamble(start: number, retryMs: number): string {
  const position = formatPosition(start);
  return `: connected\nretry: ${retryMs}\n` + eventFrame(position, JSON.stringify({ position }), POSITION_EVENT);
}

/** One SSE event frame: `id:`, then the data split into `data:` lines, then a blank line. */
export function eventFrame(id: string, data: string, event?: string): string {
  const lines = data.split('\n').map((l) => 'data: ' + l);
  return (event ? `event: ${event}\n` : '') + `id: ${id}\n` + lines.join('\n') + '\n\n';
}

/** A page's frames in one buffer: frame i is bytes [ends[i-1] (or 0), ends[i]), its position seqs[i]. */
export interface EncodedPage {
  bytes: Buffer;
  ends: number[];
  seqs: number[];
}

const encoded = new WeakMap<LogRead, EncodedPage>();

/** The page's frames, encoded on first use and shared by every stream writing this read. */
export function encodedPage(r: LogRead): EncodedPage {
  let page = encoded.get(r);
  if (!page) {
    const chunks: Buffer[] = [];
    const ends: number[] = [];
    const seqs: number[] = [];
    let at = 0;
    for (const { seq, message } of r.messages) {
      const b = Buffer.from(eventFrame(formatPosition(seq), messageEventData(message)));
      chunks.push(b);
      at += b.length;
      ends.push(at);
      seqs.push(seq);
    }
    page = { bytes: Buffer.concat(chunks, at), ends, seqs };
    encoded.set(r, page);
  }
  return page;
}

/**
 * How many frames from `from` to write within `budget` bytes: as many as fit, and at least
 * one (so a stream always advances and holds at most its budget plus one message).
 */
export function framesWithin(page: EncodedPage, from: number, budget: number): number {
  const base = from === 0 ? 0 : page.ends[from - 1]!;
  let to = from + 1;
  while (to < page.ends.length && page.ends[to]! - base <= budget) to++;
  return to - from;
}

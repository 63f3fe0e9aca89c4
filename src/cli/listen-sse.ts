/**
 * A Server-Sent Events parser following the WHATWG rules (lines end in CRLF, LF or CR;
 * `data:` lines join with LF; `id:` persists until changed; an event is dispatched on a
 * blank line). Used by `switchboard listen` and by tests as an independent client.
 */

export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  event: string;
  data: string;
  /** The last event id after this event (its own `id:`, or an earlier one). */
  lastEventId: string;
}

export interface SseHandlers {
  onEvent(e: SseEvent): void;
  /** A block set the last event id without data (a position with no event; older servers sent one first). */
  onId?(lastEventId: string): void;
  onRetry?(ms: number): void;
  /** A comment line (heartbeats, the preamble). */
  onComment?(text: string): void;
}

export class SseParser {
  lastEventId = '';
  private idBuffer = '';
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private idChanged = false;

  constructor(private readonly h: SseHandlers) {}

  /** Feeds a chunk of the stream (text already decoded from UTF-8). */
  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR at the end of the chunk may be the first half of a CRLF: wait for more.
      if (c === 13 && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, i));
      if (c === 13 && this.buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.h.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) {
      this.idBuffer = value;
      this.idChanged = true;
    } else if (field === 'retry' && /^\d+$/.test(value)) this.h.onRetry?.(Number(value));
  }

  private dispatch(): void {
    this.lastEventId = this.idBuffer;
    const changed = this.idChanged;
    this.idChanged = false;
    if (this.data.length === 0) {
      this.event = '';
      if (changed) this.h.onId?.(this.lastEventId);
      return;
    }
    const e: SseEvent = { event: this.event || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId };
    this.data = [];
    this.event = '';
    this.h.onEvent(e);
  }
}

/**
 * The payload text of a Switchboard message event, exactly as the server stored it: the
 * server writes `"payload"` as the last member, after fields that cannot contain it.
 */
export function rawPayload(data: string): string {
  const marker = ',"payload":';
  const at = data.indexOf(marker);
  if (at < 0 || !data.endsWith('}')) throw new Error('not a message event');
  return data.slice(at + marker.length, -1);
}

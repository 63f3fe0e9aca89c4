/** Messages of an application: long-polled lists and the SSE stream. */
import { iso, seg } from './http.js';
import type { Http } from './http.js';
import { readStream } from './sse.js';
import type { StreamOptions } from './sse.js';
import type { MessageOut, MessagePage } from './generated/types.js';

export interface MessageListOptions {
  limit?: number;
  iterator?: string;
  eventTypes?: readonly string[];
  channel?: string;
  tag?: string;
  before?: Date | string;
  after?: Date | string;
  withContent?: boolean;
  /** Long poll: while the page would be empty, wait up to this many seconds (at most 30) for a message. */
  wait?: number;
  signal?: AbortSignal;
}

export interface MessageStreamOptions extends StreamOptions {
  eventTypes?: readonly string[];
  channel?: string;
  /** Without a `lastEventId`: start after this time (default: now). */
  after?: Date | string;
}

/** A streamed message and the position to resume after it (`lastEventId`). */
export type StreamedMessage = MessageOut & { position: string };

export class Messages {
  constructor(private readonly http: Http) {}

  /** One page of messages, newest first; with `wait`, held until one exists or the time passes. */
  list(appId: string, o: MessageListOptions = {}): Promise<MessagePage> {
    return this.http.request('GET', `/api/v1/app/${seg(appId)}/msg`, {
      query: {
        limit: o.limit,
        iterator: o.iterator,
        event_types: o.eventTypes,
        channel: o.channel,
        tag: o.tag,
        before: o.before && iso(o.before),
        after: o.after && iso(o.after),
        with_content: o.withContent,
        wait: o.wait,
      },
      signal: o.signal,
    });
  }

  /**
   * The application's messages as they are published (Server-Sent Events), oldest first,
   * resuming after `lastEventId` (reconnects do so on their own). Stop it with `signal` or
   * by leaving the loop.
   */
  async *stream(appId: string, o: MessageStreamOptions = {}): AsyncGenerator<StreamedMessage> {
    const query = { event_types: o.eventTypes, channel: o.channel, after: o.after && iso(o.after) };
    for await (const { position, event } of readStream(this.http, `/api/v1/app/${seg(appId)}/msg/stream`, query, o)) {
      yield { ...(JSON.parse(event.data) as MessageOut), position };
    }
  }
}

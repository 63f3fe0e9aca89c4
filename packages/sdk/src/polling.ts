/** Polling endpoints: management, reads with server-kept consumer cursors, long polls, streams, tokens. */
import { iso, seg } from './http.js';
import type { Http } from './http.js';
import { readStream } from './sse.js';
import type { StreamOptions } from './sse.js';
import type { StreamedMessage } from './messages.js';
import type {
  ConsumerPage,
  ConsumerSeekOut,
  MessageOut,
  PollPage,
  PollerTokenOut,
  PollerTokenRotated,
  PollingEndpoint,
  PollingEndpointCreate,
  PollingEndpointList,
  PollingEndpointUpdate,
} from './generated/types.js';

export interface PollOptions {
  limit?: number;
  iterator?: string;
  eventType?: string;
  channel?: string;
  after?: Date | string;
  /** Long poll: wait up to this many seconds (at most 30) for a message. */
  wait?: number;
  signal?: AbortSignal;
}

export interface ConsumerPollOptions {
  limit?: number;
  /** The iterator of the previous answer: passing it commits that progress. */
  iterator?: string;
  wait?: number;
  signal?: AbortSignal;
}

export class PollingEndpoints {
  constructor(private readonly http: Http) {}

  private base(appId: string, id?: string): string {
    return `/api/v1/app/${seg(appId)}/polling-endpoint${id === undefined ? '' : '/' + seg(id)}`;
  }

  create(appId: string, body: PollingEndpointCreate = {}): Promise<PollingEndpoint> {
    return this.http.request('POST', this.base(appId), { body });
  }

  list(appId: string, o: { limit?: number; iterator?: string } = {}): Promise<PollingEndpointList> {
    return this.http.request('GET', this.base(appId), { query: o });
  }

  get(appId: string, id: string): Promise<PollingEndpoint> {
    return this.http.request('GET', this.base(appId, id));
  }

  update(appId: string, id: string, patch: PollingEndpointUpdate): Promise<PollingEndpoint> {
    return this.http.request('PATCH', this.base(appId, id), { body: patch });
  }

  async delete(appId: string, id: string): Promise<void> {
    await this.http.request('DELETE', this.base(appId, id));
  }

  /** Reads the polling endpoint from `iterator` (the start when absent). */
  poll(appId: string, sinkId: string, o: PollOptions = {}): Promise<PollPage> {
    return this.http.request('GET', `/api/v1/app/${seg(appId)}/poller/${seg(sinkId)}`, {
      query: { limit: o.limit, iterator: o.iterator, event_type: o.eventType, channel: o.channel, after: o.after && iso(o.after), wait: o.wait },
      signal: o.signal,
    });
  }

  /** Reads as a consumer: the server keeps its cursor, committed by passing the previous iterator. */
  consumerPoll(appId: string, sinkId: string, consumerId: string, o: ConsumerPollOptions = {}): Promise<ConsumerPage> {
    return this.http.request('GET', `/api/v1/app/${seg(appId)}/poller/${seg(sinkId)}/consumer/${seg(consumerId)}`, {
      query: { limit: o.limit, iterator: o.iterator, wait: o.wait },
      signal: o.signal,
    });
  }

  /** Moves a consumer's cursor to a time. */
  seek(appId: string, sinkId: string, consumerId: string, after: Date | string): Promise<ConsumerSeekOut> {
    return this.http.request('POST', `/api/v1/app/${seg(appId)}/poller/${seg(sinkId)}/consumer/${seg(consumerId)}/seek`, { body: { after: iso(after) } });
  }

  /** A consumer's messages as a stream; each reconnect commits the position reached. */
  async *consumerStream(appId: string, sinkId: string, consumerId: string, o: StreamOptions = {}): AsyncGenerator<StreamedMessage> {
    const path = `/api/v1/app/${seg(appId)}/poller/${seg(sinkId)}/consumer/${seg(consumerId)}/stream`;
    for await (const { position, event } of readStream(this.http, path, {}, o)) yield { ...(JSON.parse(event.data) as MessageOut), position };
  }

  /** The token that can read this polling endpoint and nothing else. */
  token(appId: string, sinkId: string): Promise<PollerTokenOut> {
    return this.http.request('GET', `/api/v1/auth/app/${seg(appId)}/poller/${seg(sinkId)}/token`);
  }

  rotateToken(appId: string, sinkId: string, o: { expiry?: number; oldTokenExpiry?: number } = {}): Promise<PollerTokenRotated> {
    return this.http.request('POST', `/api/v1/auth/app/${seg(appId)}/poller/${seg(sinkId)}/token/rotate`, { body: o });
  }
}

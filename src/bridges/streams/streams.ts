/**
 * Use cases of the Stream API: streams, stream event types, sinks (configs checked and
 * masked by sink-configs.ts, secrets, headers, transformations, replay), appending events
 * (creating the stream on the way when asked) and reading a poller sink's events by iterator
 * or time. Iterators are log positions, written as the pull bridge writes them.
 */
import type { Clock } from '../../domain/clock.js';
import { AppError, invalid, notFound } from '../../domain/errors.js';
import { mergeHeaders, redactHeaders } from '../../domain/headers.js';
import { newId } from '../../domain/ids.js';
import type { Metadata } from '../../domain/model.js';
import { generateSecret } from '../../domain/signature.js';
import { checkUid } from '../../domain/uid.js';
import type { EventBus } from '../../engine/event-bus.js';
import type { Page, PageQuery } from '../../storage/contract/paging.js';
import type { Store } from '../../storage/contract/store.js';
import type { SinkAttempt, SinkRecord, SinkStatus, StreamEvent, StreamEventTypeRecord, StreamRecord } from '../../storage/contract/streams.js';
import { formatPosition, parsePosition } from '../pull/pull-filter.js';
import { checkSinkType, normaliseSinkConfig, unmaskSinkConfig } from './sink-configs.js';
import { maskUri } from '../../domain/uri-secrets.js';
import type { HostCheck } from './sink-configs.js';

export interface StreamInput {
  name?: string | undefined;
  uid?: string | null | undefined;
  description?: string | null | undefined;
  metadata?: Metadata | undefined;
}

export interface StreamEventTypeInput {
  description?: string | null | undefined;
  archived?: boolean | undefined;
  deprecated?: boolean | undefined;
  featureFlags?: string[] | null | undefined;
}

export interface SinkInput {
  type?: string | undefined;
  config?: Record<string, unknown> | undefined;
  uid?: string | null | undefined;
  batchSize?: number | null | undefined;
  maxWaitSecs?: number | null | undefined;
  eventTypes?: string[] | undefined;
  metadata?: Metadata | undefined;
  status?: 'enabled' | 'disabled' | null | undefined;
}

/** A page of a poller sink's events and where to read on from. */
export interface SinkEventsPage {
  data: StreamEvent[];
  iterator: string;
  done: boolean;
}

const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_MAX_WAIT_SECS = 0;

/** The iterator of a log position (a sink's `currentIterator`, the events iterator). */
export const iteratorOf = (seq: number): string => formatPosition(seq);

export class StreamService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    /** The endpoint URL guard, applied to every sink URI's host. */
    private readonly checkHost: HostCheck,
    /** Checks transformation code; absent when transformations are off (code is then refused). */
    private readonly checkCode?: (code: string) => Promise<void>,
  ) {}

  // ---- streams

  async get(idOrUid: string): Promise<StreamRecord> {
    const s = await this.store.streams.getStream(idOrUid);
    if (!s) throw notFound('Stream');
    return s;
  }

  list(q: PageQuery): Promise<Page<StreamRecord>> {
    return this.store.streams.listStreams(q);
  }

  async create(input: StreamInput & { name: string }): Promise<StreamRecord> {
    checkUid(input.uid, ['body', 'uid']);
    const now = this.clock.now();
    const s: StreamRecord = {
      id: newId('stream', now),
      uid: input.uid ?? null,
      name: input.name,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    };
    await this.store.streams.createStream(s);
    return s;
  }

  /** PUT replaces name, uid and metadata; PATCH changes what it sends. */
  async update(idOrUid: string, input: StreamInput, replace: boolean): Promise<StreamRecord> {
    const cur = await this.get(idOrUid);
    if (input.uid !== undefined) checkUid(input.uid, ['body', 'uid']);
    const next: StreamRecord = {
      ...cur,
      name: input.name ?? cur.name,
      uid: input.uid !== undefined ? input.uid : replace ? null : cur.uid,
      description: input.description !== undefined ? input.description : cur.description,
      metadata: input.metadata ?? (replace ? {} : cur.metadata),
      updatedAt: this.clock.now(),
    };
    await this.store.streams.updateStream(next);
    return next;
  }

  async delete(idOrUid: string): Promise<void> {
    await this.store.streams.deleteStream((await this.get(idOrUid)).id);
  }

  // ---- event types

  async getEventType(name: string): Promise<StreamEventTypeRecord> {
    const et = await this.store.streams.getEventType(name);
    if (!et) throw notFound('Event type');
    return et;
  }

  listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<StreamEventTypeRecord>> {
    return this.store.streams.listEventTypes(q);
  }

  async createEventType(name: string, input: StreamEventTypeInput): Promise<StreamEventTypeRecord> {
    const now = this.clock.now();
    const et: StreamEventTypeRecord = {
      name,
      description: input.description ?? null,
      archived: input.archived ?? false,
      deprecated: input.deprecated ?? false,
      featureFlags: input.featureFlags ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.streams.createEventType(et);
    return et;
  }

  /** PUT creates a missing type; both PUT and PATCH change what they send. */
  async updateEventType(name: string, input: StreamEventTypeInput, createMissing: boolean): Promise<{ et: StreamEventTypeRecord; created: boolean }> {
    const cur = await this.store.streams.getEventType(name);
    if (!cur) {
      if (!createMissing) throw notFound('Event type');
      return { et: await this.createEventType(name, input), created: true };
    }
    const et: StreamEventTypeRecord = {
      ...cur,
      description: input.description !== undefined ? input.description : cur.description,
      archived: input.archived ?? cur.archived,
      deprecated: input.deprecated ?? cur.deprecated,
      featureFlags: input.featureFlags !== undefined ? input.featureFlags : cur.featureFlags,
      updatedAt: this.clock.now(),
    };
    await this.store.streams.updateEventType(et);
    return { et, created: false };
  }

  /** Archives the type; `expunge` deletes it. */
  async deleteEventType(name: string, expunge: boolean): Promise<void> {
    const et = await this.getEventType(name);
    if (expunge) await this.store.streams.deleteEventType(name);
    else await this.store.streams.updateEventType({ ...et, archived: true, updatedAt: this.clock.now() });
  }

  // ---- sinks

  async getSink(streamIdOrUid: string, sinkIdOrUid: string): Promise<SinkRecord> {
    const s = await this.get(streamIdOrUid);
    const sink = await this.store.streams.getSink(s.id, sinkIdOrUid);
    if (!sink) throw notFound('Sink');
    return sink;
  }

  async listSinks(streamIdOrUid: string, q: PageQuery): Promise<Page<SinkRecord>> {
    return this.store.streams.listSinks((await this.get(streamIdOrUid)).id, q);
  }

  async createSink(streamIdOrUid: string, input: SinkInput & { type: string }): Promise<SinkRecord> {
    const s = await this.get(streamIdOrUid);
    checkUid(input.uid, ['body', 'uid']);
    const { config, headers } = await normaliseSinkConfig(input.type, input.config ?? {}, this.checkHost);
    const now = this.clock.now();
    const sink: SinkRecord = {
      id: newId('sink', now),
      streamId: s.id,
      uid: input.uid ?? null,
      type: input.type,
      config: JSON.stringify(config),
      batchSize: input.batchSize ?? DEFAULT_BATCH_SIZE,
      maxWaitSecs: input.maxWaitSecs ?? DEFAULT_MAX_WAIT_SECS,
      eventTypes: input.eventTypes ?? [],
      metadata: input.metadata ?? {},
      status: input.status ?? 'enabled',
      failureReason: null,
      nextRetryAt: null,
      failures: 0,
      cursor: 0,
      secret: generateSecret(),
      headers: headers ? mergeHeaders({}, headers, false, ['body', 'config', 'headers']) : {},
      transformationCode: null,
      transformationEnabled: false,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.streams.createSink(sink);
    return sink;
  }

  /**
   * PUT (`replace`) or PATCH of a sink. An extension sink sent back as the SDK shows it
   * (type `http`, its masked URI as `url`) stays what it is; a masked URI keeps the stored one.
   */
  async updateSink(streamIdOrUid: string, sinkIdOrUid: string, input: SinkInput, replace: boolean): Promise<SinkRecord> {
    const cur = await this.getSink(streamIdOrUid, sinkIdOrUid);
    if (input.uid !== undefined) checkUid(input.uid, ['body', 'uid']);
    const stored = { type: cur.type, config: JSON.parse(cur.config) as Record<string, unknown> };
    let type = input.type ?? cur.type;
    let incoming = input.config;
    if (type === 'http' && cur.type !== 'http' && incoming && this.isExtensionEcho(cur, incoming)) {
      type = cur.type;
      incoming = undefined;
    }
    checkSinkType(type);
    let config = cur.config;
    let headers = cur.headers;
    if (incoming !== undefined || type !== cur.type) {
      // A PATCH of the same type changes the fields it sends; anything else is a whole config.
      const base = !replace && type === cur.type ? { ...stored.config, ...(incoming ?? {}) } : (incoming ?? {});
      const n = await normaliseSinkConfig(type, unmaskSinkConfig(type, base, stored), this.checkHost);
      config = JSON.stringify(n.config);
      if (n.headers) headers = mergeHeaders({}, n.headers, false, ['body', 'config', 'headers']);
    }
    const configChanged = type !== cur.type || config !== cur.config;
    let status: SinkStatus = cur.status;
    let reset = false;
    if (input.status) {
      status = input.status;
      reset = input.status === 'enabled';
    } else if (cur.status === 'paused' && configChanged) {
      status = 'enabled';
      reset = true;
    }
    const next: SinkRecord = {
      ...cur,
      type,
      config,
      headers,
      uid: input.uid !== undefined ? input.uid : replace ? null : cur.uid,
      batchSize: input.batchSize ?? (replace ? DEFAULT_BATCH_SIZE : cur.batchSize),
      maxWaitSecs: input.maxWaitSecs ?? (replace ? DEFAULT_MAX_WAIT_SECS : cur.maxWaitSecs),
      eventTypes: input.eventTypes ?? (replace ? [] : cur.eventTypes),
      metadata: input.metadata ?? (replace ? {} : cur.metadata),
      status,
      ...(reset ? { failures: 0, failureReason: null, nextRetryAt: null } : {}),
      updatedAt: this.clock.now(),
    };
    await this.store.streams.updateSink(next);
    return next;
  }

  /** True when `config` is the `http` view of extension sink `cur` (its masked URI as `url`, nothing else changed). */
  private isExtensionEcho(cur: SinkRecord, config: Record<string, unknown>): boolean {
    const stored = JSON.parse(cur.config) as Record<string, unknown>;
    const uri = (stored.uri ?? stored.url) as string | undefined;
    const { url, ...rest } = config;
    return uri !== undefined && (url === uri || url === maskUri(uri)) && Object.keys(rest).every((k) => rest[k] === undefined || rest[k] === null);
  }

  async deleteSink(streamIdOrUid: string, sinkIdOrUid: string): Promise<void> {
    const sink = await this.getSink(streamIdOrUid, sinkIdOrUid);
    await this.store.streams.deleteSink(sink.streamId, sink.id);
  }

  async rotateSecret(streamIdOrUid: string, sinkIdOrUid: string, key: string | null | undefined): Promise<void> {
    const sink = await this.getSink(streamIdOrUid, sinkIdOrUid);
    const secret = key ? (key.startsWith('whsec_') ? key : 'whsec_' + key) : generateSecret();
    await this.store.streams.updateSink({ ...sink, secret, updatedAt: this.clock.now() });
  }

  async headers(streamIdOrUid: string, sinkIdOrUid: string): Promise<{ headers: Record<string, string>; sensitive: string[] }> {
    return redactHeaders((await this.getSink(streamIdOrUid, sinkIdOrUid)).headers);
  }

  async patchHeaders(streamIdOrUid: string, sinkIdOrUid: string, changes: Record<string, string | null>): Promise<{ headers: Record<string, string>; sensitive: string[] }> {
    const sink = await this.getSink(streamIdOrUid, sinkIdOrUid);
    const headers = mergeHeaders(sink.headers, changes, true, ['body', 'headers']);
    await this.store.streams.updateSink({ ...sink, headers, updatedAt: this.clock.now() });
    return redactHeaders(headers);
  }

  /** Sets (or with null, clears) the sink's transformation code; code set means enabled. */
  async patchTransformation(streamIdOrUid: string, sinkIdOrUid: string, code: string | null | undefined): Promise<SinkRecord> {
    const sink = await this.getSink(streamIdOrUid, sinkIdOrUid);
    if (code === undefined) return sink;
    if (code !== null) {
      if (!this.checkCode) throw new AppError('bad_request', 'transformations are turned off on this server');
      await this.checkCode(code);
    }
    const next = { ...sink, transformationCode: code, transformationEnabled: code !== null, updatedAt: this.clock.now() };
    await this.store.streams.updateSink(next);
    return next;
  }

  /** Moves the sink's cursor back (or forward) to an iterator or to the first event at or after a time. */
  async replay(streamIdOrUid: string, sinkIdOrUid: string, from: { iterator?: string | undefined; since?: number | undefined }): Promise<number> {
    const sink = await this.getSink(streamIdOrUid, sinkIdOrUid);
    let cursor: number;
    if (from.iterator !== undefined) cursor = Math.min(parsePosition(from.iterator, ['body', 'iterator']), await this.store.streams.lastSeq(sink.streamId));
    else if (from.since !== undefined) cursor = await this.store.streams.seqBefore(sink.streamId, from.since);
    else throw invalid(['body'], 'send an iterator or a since time');
    await this.store.streams.setSinkCursor(sink.id, cursor);
    return cursor;
  }

  async attempts(streamIdOrUid: string, sinkIdOrUid: string, q: PageQuery): Promise<Page<SinkAttempt>> {
    const sink = await this.getSink(streamIdOrUid, sinkIdOrUid);
    return this.store.streams.listSinkAttempts(sink.id, q);
  }

  // ---- events

  /**
   * Appends events to the stream (created first from `create` when missing); wakes the sink
   * dispatcher. An event given an `id` (a queue source's id for a broker message) is stored
   * once however often it is appended; others get a new id.
   */
  async appendEvents(
    streamIdOrUid: string,
    events: { id?: string | undefined; eventType: string; payload: string }[],
    create: (StreamInput & { name: string }) | null | undefined,
  ): Promise<StreamEvent[]> {
    let s = await this.store.streams.getStream(streamIdOrUid);
    if (!s) {
      if (!create) throw notFound('Stream');
      s = await this.create({ ...create, uid: create.uid ?? streamIdOrUid });
    }
    const now = this.clock.now();
    const stored = await this.store.streams.appendEvents(
      s.id,
      events.map((e) => ({ id: e.id ?? newId('streamEvent', now), eventType: e.eventType, payload: e.payload, createdAt: now })),
    );
    if (stored.length > 0) this.bus.emit({ kind: 'stream.events.appended', streamId: s.id, lastSeq: stored.at(-1)!.seq });
    return stored;
  }

  /**
   * A poller sink's events after `iterator`, or from the first event at or after `after`, or
   * from where the sink last read; only the sink's event types. The sink's cursor follows.
   */
  async readSinkEvents(sink: SinkRecord, q: { iterator?: string | undefined; after?: number | undefined; limit: number }): Promise<SinkEventsPage> {
    if (sink.type !== 'poller') throw new AppError('bad_request', `only poller sinks are read through this route; this sink's type is ${sink.type}`);
    const start =
      q.iterator !== undefined
        ? parsePosition(q.iterator, ['query', 'iterator'])
        : q.after !== undefined
          ? await this.store.streams.seqBefore(sink.streamId, q.after)
          : sink.cursor;
    // Every event up to `last` is stored: an empty or short page has read all of them.
    const last = await this.store.streams.lastSeq(sink.streamId);
    const data = await this.store.streams.readEvents(sink.streamId, start, q.limit, sink.eventTypes);
    const done = data.length < q.limit;
    const end = done ? Math.max(start, last, data.at(-1)?.seq ?? 0) : data.at(-1)!.seq;
    if (end !== sink.cursor) await this.store.streams.setSinkCursor(sink.id, end);
    return { data, iterator: iteratorOf(end), done };
  }
}

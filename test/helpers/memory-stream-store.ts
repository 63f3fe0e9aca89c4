/**
 * The stream store's delivery side (SinkDeliveryStore) held in memory, for tests of what sits on top of it (the sink dispatcher). It
 * keeps the contract's promises (src/storage/contract/streams.ts): appends skip ids already in
 * the stream, reads filter by event type, leases are exclusive until they run out, and a
 * settle or release under a token that is no longer the sink's writes nothing. Records go in
 * and out as copies, as they would through a database.
 */
import type { Page, PageQuery } from '../../src/storage/contract/paging.js';
import type {
  LeasedSink,
  NewStreamEvent,
  SinkAttempt,
  SinkRecord,
  SinkSettlement,
  StreamEvent,
  StreamEventTypeRecord,
  StreamRecord,
  SinkDeliveryStore,
} from '../../src/storage/contract/streams.js';
import { finishPage, pageBounds } from '../../src/storage/shared/paging.js';

interface Lease {
  token: number;
  until: number;
}

const copy = <T>(v: T): T => structuredClone(v);

/** One page of `items`, ordered by the unique `key`. */
function pageOf<T>(items: readonly T[], q: PageQuery, key: (t: T) => string, defaultOrder: 'ascending' | 'descending'): Page<T> {
  const b = pageBounds(q, defaultOrder);
  const sorted = [...items].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  if (b.sqlOrder === 'DESC') sorted.reverse();
  const after = b.after;
  const rows = after === undefined ? sorted : sorted.filter((t) => (b.cmp === '>' ? key(t) > after : key(t) < after));
  return finishPage(rows.slice(0, q.limit + 1), q.limit, b, key, copy);
}

export class MemoryStreamStore implements SinkDeliveryStore {
  private readonly streams = new Map<string, StreamRecord>();
  private readonly eventTypes = new Map<string, StreamEventTypeRecord>();
  private readonly sinks = new Map<string, SinkRecord>();
  private readonly logs = new Map<string, StreamEvent[]>();
  private readonly attempts: SinkAttempt[] = [];
  private readonly leases = new Map<string, Lease>();
  private tokens = 0;

  /** Calls made, by method name (for tests that count store round trips). */
  readonly calls = new Map<string, number>();

  private count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  async createStream(s: StreamRecord): Promise<void> {
    if (this.streams.has(s.id)) throw new Error(`stream ${s.id} exists`);
    this.streams.set(s.id, copy(s));
    this.logs.set(s.id, []);
  }

  async getStream(idOrUid: string): Promise<StreamRecord | null> {
    const s = this.streams.get(idOrUid) ?? [...this.streams.values()].find((x) => x.uid === idOrUid);
    return s ? copy(s) : null;
  }

  async listStreams(q: PageQuery): Promise<Page<StreamRecord>> {
    return pageOf([...this.streams.values()], q, (s) => s.id, 'ascending');
  }

  async updateStream(s: StreamRecord): Promise<void> {
    if (this.streams.has(s.id)) this.streams.set(s.id, copy(s));
  }

  async deleteStream(id: string): Promise<void> {
    this.streams.delete(id);
    this.logs.delete(id);
    for (const s of [...this.sinks.values()]) if (s.streamId === id) await this.deleteSink(id, s.id);
  }

  async createEventType(et: StreamEventTypeRecord): Promise<void> {
    if (this.eventTypes.has(et.name)) throw new Error(`event type ${et.name} exists`);
    this.eventTypes.set(et.name, copy(et));
  }

  async getEventType(name: string): Promise<StreamEventTypeRecord | null> {
    const et = this.eventTypes.get(name);
    return et ? copy(et) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<StreamEventTypeRecord>> {
    const all = [...this.eventTypes.values()].filter((et) => q.includeArchived || !et.archived);
    return pageOf(all, q, (et) => et.name, 'ascending');
  }

  async updateEventType(et: StreamEventTypeRecord): Promise<void> {
    if (this.eventTypes.has(et.name)) this.eventTypes.set(et.name, copy(et));
  }

  async deleteEventType(name: string): Promise<void> {
    this.eventTypes.delete(name);
  }

  async createSink(s: SinkRecord): Promise<void> {
    if (this.sinks.has(s.id)) throw new Error(`sink ${s.id} exists`);
    if (!this.streams.has(s.streamId)) throw new Error(`no stream ${s.streamId}`);
    this.sinks.set(s.id, copy(s));
  }

  async getSink(streamId: string, idOrUid: string): Promise<SinkRecord | null> {
    const s = [...this.sinks.values()].find((x) => x.streamId === streamId && (x.id === idOrUid || x.uid === idOrUid));
    return s ? copy(s) : null;
  }

  async listSinks(streamId: string, q: PageQuery): Promise<Page<SinkRecord>> {
    return pageOf([...this.sinks.values()].filter((s) => s.streamId === streamId), q, (s) => s.id, 'ascending');
  }

  async listDeliverableSinks(): Promise<SinkRecord[]> {
    this.count('listDeliverableSinks');
    return [...this.sinks.values()].filter((s) => s.type !== 'poller' && s.status !== 'disabled').map(copy);
  }

  async updateSink(s: SinkRecord): Promise<void> {
    if (this.sinks.has(s.id)) this.sinks.set(s.id, copy(s));
  }

  async deleteSink(streamId: string, id: string): Promise<void> {
    const s = this.sinks.get(id);
    if (!s || s.streamId !== streamId) return;
    this.sinks.delete(id);
    this.leases.delete(id);
    for (let i = this.attempts.length - 1; i >= 0; i--) if (this.attempts[i]!.sinkId === id) this.attempts.splice(i, 1);
  }

  async appendEvents(streamId: string, events: NewStreamEvent[]): Promise<StreamEvent[]> {
    const log = this.logs.get(streamId);
    if (!log) throw new Error(`no stream ${streamId}`);
    const ids = new Set(log.map((e) => e.id));
    const out: StreamEvent[] = [];
    for (const e of events) {
      if (ids.has(e.id)) continue;
      ids.add(e.id);
      const stored: StreamEvent = { ...copy(e), streamId, seq: log.length + 1 };
      log.push(stored);
      out.push(copy(stored));
    }
    return out;
  }

  async readEvents(streamId: string, afterSeq: number, limit: number, eventTypes: string[]): Promise<StreamEvent[]> {
    this.count('readEvents');
    const log = this.logs.get(streamId) ?? [];
    const wanted = eventTypes.length > 0 ? new Set(eventTypes) : null;
    const out: StreamEvent[] = [];
    for (let i = Math.max(0, afterSeq); i < log.length && out.length < limit; i++) {
      const e = log[i]!;
      if (!wanted || wanted.has(e.eventType)) out.push(copy(e));
    }
    return out;
  }

  async seqBefore(streamId: string, time: number): Promise<number> {
    const log = this.logs.get(streamId) ?? [];
    const first = log.find((e) => e.createdAt >= time);
    return first ? first.seq - 1 : log.length;
  }

  async lastSeq(streamId: string): Promise<number> {
    return this.logs.get(streamId)?.length ?? 0;
  }

  async leaseDueSinks(now: number, leaseMs: number, limit: number): Promise<LeasedSink[]> {
    this.count('leaseDueSinks');
    const out: LeasedSink[] = [];
    for (const s of this.sinks.values()) {
      if (out.length >= limit) break;
      if (s.type === 'poller' || (s.status !== 'enabled' && s.status !== 'retrying')) continue;
      if (s.nextRetryAt !== null && s.nextRetryAt > now) continue;
      const lease = this.leases.get(s.id);
      if (lease && lease.until > now) continue;
      if ((this.logs.get(s.streamId)?.length ?? 0) <= s.cursor) continue;
      const token = ++this.tokens;
      this.leases.set(s.id, { token, until: now + leaseMs });
      out.push({ sink: copy(s), leaseToken: token });
    }
    return out;
  }

  async settleSink(sinkId: string, leaseToken: number, settlement: SinkSettlement, attempt: SinkAttempt): Promise<boolean> {
    const s = this.sinks.get(sinkId);
    if (!s || this.leases.get(sinkId)?.token !== leaseToken) return false;
    if (settlement.cursor !== undefined) s.cursor = settlement.cursor;
    s.status = settlement.status;
    s.failureReason = settlement.failureReason;
    s.nextRetryAt = settlement.nextRetryAt;
    s.failures = settlement.failures;
    this.attempts.push(copy(attempt));
    this.leases.delete(sinkId);
    return true;
  }

  async releaseSink(sinkId: string, leaseToken: number): Promise<void> {
    this.count('releaseSink');
    if (this.leases.get(sinkId)?.token === leaseToken) this.leases.delete(sinkId);
  }

  async listSinkAttempts(sinkId: string, q: PageQuery): Promise<Page<SinkAttempt>> {
    return pageOf(this.attempts.filter((a) => a.sinkId === sinkId), q, (a) => a.id, 'descending');
  }

  /** Whether the sink is leased at `now` (for tests). */
  isLeased(sinkId: string, now: number): boolean {
    const lease = this.leases.get(sinkId);
    return !!lease && lease.until > now;
  }
}

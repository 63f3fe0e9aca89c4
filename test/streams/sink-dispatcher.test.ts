/**
 * The sink dispatcher over an in-memory stream store and fake transports: batches of the
 * sink's size, a partial batch held until its max wait or until it fills, event-type filters,
 * retries with backoff that lose nothing and keep the order, pauses when retrying cannot
 * help, transformations, fencing by lease, independence of sinks, wake-ups on appended events,
 * and transports opened, reused and closed.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Clock } from '../../src/domain/clock.js';
import { EventBus } from '../../src/engine/event-bus.js';
import { TransformService } from '../../src/engine/transformations/transformer.js';
import { SinkDispatcher } from '../../src/bridges/streams/sink-dispatcher.js';
import type { SinkDispatcherOptions } from '../../src/bridges/streams/sink-dispatcher.js';
import type { SinkDeliveryReport } from '../../src/bridges/streams/sink-metrics.js';
import { SinkDeliveryError } from '../../src/bridges/streams/sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../../src/bridges/streams/sink-transport.js';
import type { SinkAttempt, SinkRecord, StreamEvent } from '../../src/storage/contract/streams.js';
import { systemClock } from '../../src/platform/system-clock.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { sinkRecord } from '../helpers/fixtures.js';
import { MemoryStreamStore } from '../helpers/memory-stream-store.js';

const logger = pino({ level: 'silent' });
const T0 = 1_800_000_000_000;

/** What a fake transport does with a batch: resolve (taken), reject (failed), or wait. */
type Behaviour = (events: SinkEvent[], target: SinkTarget) => Promise<void>;

class FakeTransport implements SinkTransport {
  readonly batches: SinkEvent[][] = [];
  closed = false;
  constructor(
    readonly target: SinkTarget,
    private readonly behaviour: () => Behaviour,
  ) {}

  async deliver(events: SinkEvent[]): Promise<void> {
    assert.equal(this.closed, false, 'deliver on a closed transport');
    this.batches.push(events);
    await this.behaviour()(events, this.target);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Opens fake transports, and remembers every batch each sink was handed, in order. */
class FakeTransports {
  readonly opened: FakeTransport[] = [];
  private readonly behaviours = new Map<string, Behaviour>();

  readonly open = (target: SinkTarget): SinkTransport => {
    const t = new FakeTransport(target, () => this.behaviours.get(target.id) ?? (async () => {}));
    this.opened.push(t);
    return t;
  };

  /** How deliveries to `sinkId` behave from now on. */
  behave(sinkId: string, b: Behaviour): void {
    this.behaviours.set(sinkId, b);
  }

  /** Every batch handed to the sink, across its transports. */
  batches(sinkId: string): SinkEvent[][] {
    return this.opened.filter((t) => t.target.id === sinkId).flatMap((t) => t.batches);
  }

  seqs(sinkId: string): number[][] {
    return this.batches(sinkId).map((b) => b.map((e) => e.seq));
  }

  of(sinkId: string): FakeTransport[] {
    return this.opened.filter((t) => t.target.id === sinkId);
  }
}

/** A promise resolved (or rejected) from outside: a delivery that waits for the test. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

let n = 0;

interface World {
  store: MemoryStreamStore;
  bus: EventBus;
  transports: FakeTransports;
  dispatcher: SinkDispatcher;
  reports: SinkDeliveryReport[];
}

const running: SinkDispatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

function world(clock: Clock, options: Partial<SinkDispatcherOptions> = {}): World {
  const store = new MemoryStreamStore();
  const bus = new EventBus();
  const transports = new FakeTransports();
  const reports: SinkDeliveryReport[] = [];
  const dispatcher = new SinkDispatcher({
    streams: store,
    bus,
    clock,
    logger,
    openTransport: transports.open,
    random: () => 0.5,
    observer: { sinkDelivered: (r) => reports.push(r) },
    ...options,
  });
  running.push(dispatcher);
  return { store, bus, transports, dispatcher, reports };
}

async function stream(store: MemoryStreamStore): Promise<string> {
  const id = `strm_${++n}`;
  await store.createStream({ id, uid: null, name: id, description: null, metadata: {}, createdAt: T0, updatedAt: T0 });
  return id;
}

async function sink(store: MemoryStreamStore, streamId: string, over: Partial<SinkRecord> = {}): Promise<SinkRecord> {
  const s = sinkRecord(streamId, { id: `sink_${++n}`, createdAt: T0, updatedAt: T0, ...over });
  await store.createSink(s);
  return s;
}

/** Appends events (`a.happened` unless typed) and tells the bus, as the streams service does. */
async function append(w: World, streamId: string, count: number, at: number, types: string[] = []): Promise<StreamEvent[]> {
  const events = Array.from({ length: count }, (_, i) => ({
    id: `evt_${++n}`,
    eventType: types[i % Math.max(1, types.length)] ?? 'a.happened',
    payload: JSON.stringify({ n: i }),
    createdAt: at,
  }));
  const stored = await w.store.appendEvents(streamId, events);
  w.bus.emit({ kind: 'stream.events.appended', streamId, lastSeq: stored[stored.length - 1]?.seq ?? 0 });
  return stored;
}

async function sinkNow(w: World, s: SinkRecord): Promise<SinkRecord> {
  return (await w.store.getSink(s.streamId, s.id))!;
}

async function attempts(w: World, s: SinkRecord): Promise<SinkAttempt[]> {
  const page = await w.store.listSinkAttempts(s.id, { limit: 1000 });
  return page.data.sort((a, b) => a.firstSeq - b.firstSeq || a.createdAt - b.createdAt);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('sink dispatcher', () => {
  it('delivers in batches of the sink size, in order, and records each attempt', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st, { batchSize: 3 });
    await append(w, st, 7, T0);

    for (let i = 0; i < 3; i++) await w.dispatcher.runOnce();
    assert.deepEqual(w.transports.seqs(s.id), [[1, 2, 3], [4, 5, 6], [7]]);
    await w.dispatcher.runOnce();
    assert.equal(w.transports.batches(s.id).length, 3, 'nothing more to send');

    const now = await sinkNow(w, s);
    assert.equal(now.cursor, 7);
    assert.equal(now.status, 'enabled');
    const a = await attempts(w, s);
    assert.deepEqual(a.map((x) => [x.outcome, x.firstSeq, x.lastSeq, x.count]), [['success', 1, 3, 3], ['success', 4, 6, 3], ['success', 7, 7, 1]]);
    assert.ok(a.every((x) => x.id.startsWith('satt_') && x.error === null && x.responseStatus === null));
    assert.equal(w.transports.opened.length, 1, 'one transport, reused across batches');
    const batch = w.transports.batches(s.id)[0]![0]!;
    assert.equal(typeof batch.id, 'string');
    assert.equal(batch.payload, '{"n":0}');
    assert.deepEqual(
      w.reports.map((r) => [r.type, r.outcome, r.events]),
      [['http', 'success', 3], ['http', 'success', 3], ['http', 'success', 1]],
    );
  });

  it('holds a partial batch until its oldest event is maxWaitSecs old, or until it is full', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st, { batchSize: 5, maxWaitSecs: 10 });
    w.dispatcher.start();

    await append(w, st, 2, clock.now());
    // Read and released, not sent: the batch waits for more events or for its deadline.
    await eventually(() => (w.store.calls.get('readEvents') ?? 0) >= 1 && !w.store.isLeased(s.id, clock.now()), 'the partial batch read and held');
    clock.advance(9_999);
    assert.equal(w.transports.batches(s.id).length, 0, 'held until the deadline');
    clock.advance(1);
    await eventually(() => w.transports.batches(s.id).length === 1, 'the held batch sent at its deadline');
    assert.deepEqual(w.transports.seqs(s.id), [[1, 2]]);

    // A batch that fills goes at once, without waiting for its deadline.
    await append(w, st, 3, clock.now());
    await eventually(() => (w.store.calls.get('releaseSink') ?? 0) >= 2, 'the second partial batch held');
    assert.equal(w.transports.batches(s.id).length, 1);
    await append(w, st, 2, clock.now());
    await eventually(() => w.transports.batches(s.id).length === 2, 'the filled batch sent');
    assert.deepEqual(w.transports.seqs(s.id), [[1, 2], [3, 4, 5, 6, 7]]);
    await eventually(async () => (await sinkNow(w, s)).cursor === 7, 'the cursor moved');
  });

  it('sends only the event types a sink asks for, and moves its cursor past the others', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const some = await sink(w.store, st, { eventTypes: ['a.happened'], batchSize: 10 });
    const none = await sink(w.store, st, { eventTypes: ['z.happened'] });
    await append(w, st, 6, T0, ['a.happened', 'b.happened', 'b.happened']);

    await w.dispatcher.runOnce();
    assert.deepEqual(w.transports.batches(some.id).map((b) => b.map((e) => [e.seq, e.eventType])), [[[1, 'a.happened'], [4, 'a.happened']]]);
    assert.equal((await sinkNow(w, some)).cursor, 6, 'past the trailing events it does not want');
    assert.equal(w.transports.batches(none.id).length, 0);
    assert.equal((await sinkNow(w, none)).cursor, 6, 'a sink with nothing to send moves on too');
    assert.deepEqual(await w.store.leaseDueSinks(clock.now(), 60_000, 10), [], 'neither sink is due any more');
    assert.equal(w.transports.opened.filter((t) => t.target.id === none.id).length, 0, 'no transport opened for nothing');
  });

  it('retries a failing sink with backoff, then recovers: nothing lost, order kept', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st, { batchSize: 2 });
    let down = true;
    w.transports.behave(s.id, async () => {
      if (down) throw new SinkDeliveryError('503 Service Unavailable from http://user:hunter22@127.0.0.1:1/sink', 503);
    });
    await append(w, st, 3, T0);

    await w.dispatcher.runOnce();
    let now = await sinkNow(w, s);
    assert.deepEqual([now.status, now.failures, now.nextRetryAt, now.cursor], ['retrying', 1, T0 + 1000, 0]);
    assert.equal(now.failureReason, '503 Service Unavailable from http://***@127.0.0.1:1/sink', 'no credentials in the reason');
    const [first] = await attempts(w, s);
    assert.deepEqual([first!.outcome, first!.responseStatus, first!.firstSeq, first!.lastSeq], ['failure', 503, 1, 2]);

    await w.dispatcher.runOnce();
    assert.equal(w.transports.batches(s.id).length, 1, 'not tried again before its retry is due');

    clock.advance(1000);
    await append(w, st, 2, clock.now());
    await w.dispatcher.runOnce();
    now = await sinkNow(w, s);
    assert.deepEqual([now.status, now.failures, now.nextRetryAt, now.cursor], ['retrying', 2, T0 + 1000 + 2000, 0]);
    assert.equal(w.transports.of(s.id).length, 2, 'a new transport after a failure');
    assert.equal(w.transports.of(s.id)[0]!.closed, true);

    clock.advance(2000);
    down = false;
    for (let i = 0; i < 3; i++) await w.dispatcher.runOnce();
    now = await sinkNow(w, s);
    assert.deepEqual([now.status, now.failures, now.nextRetryAt, now.failureReason, now.cursor], ['enabled', 0, null, null, 5]);

    const seqs = w.transports.seqs(s.id);
    assert.deepEqual(seqs, [[1, 2], [1, 2], [1, 2], [3, 4], [5]]);
    // At least once and in seq order: the batches sent, with retries folded, are the log.
    const delivered = seqs.flat().filter((q, i, all) => all.indexOf(q) === i);
    assert.deepEqual(delivered, range(1, 5));
    assert.deepEqual(
      w.reports.map((r) => r.outcome),
      ['failure', 'failure', 'success', 'success', 'success'],
    );
  });

  it('pauses a sink when retrying cannot help, and leaves it paused', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st, { config: JSON.stringify({ uri: 'amqp://guest:s3cretpw@127.0.0.1', exchange: 'nope', password: 'p4ssword!' }), type: 'rabbitMq' });
    w.transports.behave(s.id, async (_e, t) => {
      throw new SinkDeliveryError(`exchange ${String(t.config.exchange)} not found (password ${String(t.config.password)})`, 404, false);
    });
    const bad = await sink(w.store, st, { config: '{not json' });
    await append(w, st, 2, T0);

    await w.dispatcher.runOnce();
    const now = await sinkNow(w, s);
    assert.deepEqual([now.status, now.failures, now.nextRetryAt, now.cursor], ['paused', 1, null, 0]);
    assert.equal(now.failureReason, 'exchange nope not found (password ***)');
    assert.equal(w.transports.of(s.id)[0]!.closed, true, 'its transport is closed');
    const badNow = await sinkNow(w, bad);
    assert.equal(badNow.status, 'paused');
    assert.match(badNow.failureReason!, /config is not valid JSON/);

    clock.advance(3_600_000);
    await w.dispatcher.runOnce();
    assert.equal(w.transports.batches(s.id).length, 1, 'a paused sink is not tried again');

    // Re-enabled after a fix: delivered from where it stopped.
    w.transports.behave(s.id, async () => {});
    await w.store.updateSink({ ...now, status: 'enabled', failureReason: null, failures: 0, updatedAt: clock.now() });
    await w.dispatcher.runOnce();
    assert.deepEqual(w.transports.seqs(s.id), [[1, 2], [1, 2]]);
    assert.equal((await sinkNow(w, s)).cursor, 2);
  });

  it('a failure to open the transport is a failed delivery like any other', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock, {
      openTransport: (t) => {
        throw new SinkDeliveryError(`sink type ${t.type} is not delivered by this server`, null, false);
      },
    });
    const st = await stream(w.store);
    const s = await sink(w.store, st, { type: 'carrierPigeon' });
    await append(w, st, 1, T0);
    await w.dispatcher.runOnce();
    const now = await sinkNow(w, s);
    assert.equal(now.status, 'paused');
    assert.equal(now.failureReason, 'sink type carrierPigeon is not delivered by this server');
  });

  describe('transformations', () => {
    const transforms = new TransformService({ timeoutMs: 2000, memoryBytes: 32 * 1024 * 1024, cacheSize: 8, maxPayloadBytes: 64 * 1024 }, new FakeClock(T0));

    it('applies an enabled transformation to each event, and pauses the sink when it throws', async () => {
      try {
        const clock = new FakeClock(T0);
        const w = world(clock, { transformer: transforms });
        const st = await stream(w.store);
        const code = `function handler(w) {
          if (w.payload.n === 1) { w.cancel = true; return w }
          w.payload = { wrapped: w.payload, type: w.eventType };
          w.eventType = 'wrapped.' + w.eventType;
          return w;
        }`;
        const s = await sink(w.store, st, { transformationCode: code, transformationEnabled: true });
        const off = await sink(w.store, st, { transformationCode: code, transformationEnabled: false });
        const throwing = await sink(w.store, st, { transformationCode: 'function handler(w) { throw new Error("no thanks") }', transformationEnabled: true });
        await append(w, st, 3, T0);

        await w.dispatcher.runOnce();
        const [batch] = w.transports.batches(s.id);
        assert.deepEqual(
          batch!.map((e) => [e.seq, e.eventType, JSON.parse(e.payload)]),
          [
            [1, 'wrapped.a.happened', { wrapped: { n: 0 }, type: 'a.happened' }],
            [3, 'wrapped.a.happened', { wrapped: { n: 2 }, type: 'a.happened' }],
          ],
          'transformed; the canceled event left out',
        );
        assert.equal((await sinkNow(w, s)).cursor, 3);
        assert.deepEqual(w.transports.seqs(off.id), [[1, 2, 3]], 'a disabled transformation is not run');

        const t = await sinkNow(w, throwing);
        assert.equal(t.status, 'paused');
        assert.match(t.failureReason!, /no thanks/);
        assert.equal(t.cursor, 0);
        assert.equal(w.transports.batches(throwing.id).length, 0, 'nothing sent');
        const [a] = await attempts(w, throwing);
        assert.equal(a!.outcome, 'failure');
      } finally {
        await transforms.close();
      }
    });
  });

  it('drops the result of a delivery whose lease another node took', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st);
    const slow = gate();
    w.transports.behave(s.id, () => slow.promise);
    await append(w, st, 2, T0);

    const round = w.dispatcher.runOnce();
    await eventually(() => w.transports.batches(s.id).length === 1, 'the batch handed to the transport');
    // The lease runs out while the transport hangs; another node leases the sink.
    clock.advance(61_000);
    const [taken] = await w.store.leaseDueSinks(clock.now(), 60_000, 10);
    assert.equal(taken?.sink.id, s.id);
    slow.open();
    await round;

    const now = await sinkNow(w, s);
    assert.equal(now.cursor, 0, 'the late result moved nothing');
    assert.equal((await attempts(w, s)).length, 0, 'and recorded nothing');
    assert.equal(await w.store.settleSink(s.id, taken.leaseToken, { cursor: 2, status: 'enabled', failureReason: null, nextRetryAt: null, failures: 0 }, { id: 'satt_x', sinkId: s.id, streamId: st, firstSeq: 1, lastSeq: 2, count: 2, outcome: 'success', responseStatus: null, error: null, durationMs: 1, createdAt: clock.now() }), true, 'the new lease holder settles');
  });

  it('a store error leaves the sink leased until the lease runs out, then it is delivered', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st);
    await append(w, st, 2, T0);
    const read = w.store.readEvents.bind(w.store);
    let broken = true;
    w.store.readEvents = async (...args) => {
      if (broken) throw new Error('database is locked');
      return read(...args);
    };

    await w.dispatcher.runOnce();
    assert.equal(w.store.isLeased(s.id, clock.now()), true, 'not released for another try at once');
    broken = false;
    await w.dispatcher.runOnce();
    assert.equal(w.transports.batches(s.id).length, 0);
    clock.advance(60_000);
    await w.dispatcher.runOnce();
    assert.deepEqual(w.transports.seqs(s.id), [[1, 2]]);
    assert.equal((await sinkNow(w, s)).cursor, 2);
  });

  it('a sink whose deliveries hang does not delay another, nor get a second batch in flight', async () => {
    const w = world(systemClock);
    const st = await stream(w.store);
    const slow = await sink(w.store, st, { batchSize: 1 });
    const fast = await sink(w.store, st, { batchSize: 1 });
    const hung = gate();
    w.transports.behave(slow.id, () => hung.promise);
    w.dispatcher.start();

    await append(w, st, 3, Date.now());
    await eventually(() => w.transports.batches(fast.id).length === 3, 'the fast sink got every event');
    await append(w, st, 2, Date.now());
    await eventually(() => w.transports.batches(fast.id).length === 5, 'and the next ones');
    assert.deepEqual(w.transports.seqs(slow.id), [[1]], 'one batch in flight for the hung sink');
    assert.equal(w.dispatcher.inFlight, 1);

    hung.open();
    w.transports.behave(slow.id, async () => {});
    await eventually(() => w.transports.batches(slow.id).length === 5, 'the hung sink catches up once its destination answers');
    assert.deepEqual(w.transports.seqs(slow.id), [[1], [2], [3], [4], [5]]);
  });

  it('delivers at most `concurrency` sinks at once', async () => {
    const w = world(systemClock, { concurrency: 2 });
    const st = await stream(w.store);
    const sinks = await Promise.all([1, 2, 3, 4].map(() => sink(w.store, st)));
    const hung = gate();
    let most = 0;
    let now = 0;
    for (const s of sinks) {
      w.transports.behave(s.id, async () => {
        most = Math.max(most, ++now);
        await hung.promise;
        now--;
      });
    }
    w.dispatcher.start();
    await append(w, st, 1, Date.now());
    await eventually(() => w.dispatcher.inFlight === 2, 'two sinks in flight');
    hung.open();
    await eventually(() => sinks.every((s) => w.transports.batches(s.id).length === 1), 'every sink served');
    assert.equal(most, 2);
  });

  it('wakes on appended events without waiting for its timer, and sends what waits promptly', async () => {
    // The fake clock never moves: only the bus can start a round after the first.
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const s = await sink(w.store, st, { batchSize: 3 });
    w.dispatcher.start();
    await eventually(() => (w.store.calls.get('leaseDueSinks') ?? 0) >= 1, 'the first round');
    await append(w, st, 10, T0);
    await eventually(() => w.transports.batches(s.id).length === 4, 'every batch sent');
    assert.deepEqual(w.transports.seqs(s.id), [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
  });

  it('does not spin while idle', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    await sink(w.store, st);
    w.dispatcher.start();
    await eventually(() => (w.store.calls.get('leaseDueSinks') ?? 0) >= 1, 'the first round');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.store.calls.get('leaseDueSinks'), 1, 'no round without a reason');
    clock.advance(1000);
    await eventually(() => w.store.calls.get('leaseDueSinks') === 2, 'one round on the tick');
  });

  it('reopens a transport when its sink changes, closes it when the sink goes, and closes all on stop', async () => {
    const clock = new FakeClock(T0);
    const w = world(clock);
    const st = await stream(w.store);
    const a = await sink(w.store, st);
    const b = await sink(w.store, st);
    const c = await sink(w.store, st);
    await append(w, st, 1, T0);
    await w.dispatcher.runOnce();
    assert.equal(w.dispatcher.openTransports, 3);

    await w.store.updateSink({ ...(await sinkNow(w, a)), config: JSON.stringify({ url: 'http://127.0.0.1:2/new' }), updatedAt: T0 + 1 });
    await w.store.deleteSink(st, b.id);
    await append(w, st, 1, T0);
    await w.dispatcher.runOnce();
    assert.equal(w.transports.of(a.id).length, 2);
    assert.equal(w.transports.of(a.id)[0]!.closed, true, 'the old config closed');
    assert.deepEqual(w.transports.of(a.id)[1]!.target.config, { url: 'http://127.0.0.1:2/new' });
    assert.equal(w.transports.of(b.id)[0]!.closed, true, 'the deleted sink closed');

    await w.store.updateSink({ ...(await sinkNow(w, c)), status: 'disabled' });
    await w.dispatcher.runOnce();
    assert.equal(w.transports.of(c.id)[0]!.closed, true, 'the disabled sink closed');

    await w.dispatcher.stop();
    assert.ok(w.transports.opened.every((t) => t.closed), 'every transport closed on stop');
    assert.equal(w.dispatcher.openTransports, 0);
  });

  it('stop waits for deliveries in flight, up to its grace period', async () => {
    const w = world(systemClock, { stopGraceMs: 30_000 });
    const st = await stream(w.store);
    const s = await sink(w.store, st);
    const slow = gate();
    w.transports.behave(s.id, () => slow.promise);
    w.dispatcher.start();
    await append(w, st, 1, Date.now());
    await eventually(() => w.transports.batches(s.id).length === 1, 'a delivery in flight');
    let stopped = false;
    const stopping = w.dispatcher.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'still waiting for the delivery');
    slow.open();
    await stopping;
    assert.equal((await sinkNow(w, s)).cursor, 1, 'the delivery was settled before stop returned');
    assert.equal(w.transports.of(s.id)[0]!.closed, true);
  });
});

/**
 * The stream storage contract (`store.streams`): one suite every Store implementation must
 * pass. test/storage/streams-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import type { Store } from '../../src/storage/contract/store.js';
import type { SinkAttempt, SinkRecord, StreamRecord } from '../../src/storage/contract/streams.js';
import { sinkRecord, T0 } from './fixtures.js';
import { rawRows } from './raw-db.js';


function stream(over: Partial<StreamRecord> = {}): StreamRecord {
  return { id: newId('stream', T0), uid: null, name: 'orders', description: null, metadata: {}, createdAt: T0, updatedAt: T0, ...over };
}

function sink(streamId: string, over: Partial<SinkRecord> = {}): SinkRecord {
  return sinkRecord(streamId, {
    config: '{"url":"https://example.com/hook","key":"plain-sink-key-0001"}',
    secret: 'whsec_plainSinkSecret0001',
    headers: { authorization: 'Bearer plain-header-0001' },
    ...over,
  });
}

const events = (n: number, from = 0, type = 'order.created') =>
  Array.from({ length: n }, (_, i) => ({ id: `evt_${from + i}`, eventType: type, payload: `{"n":${from + i}}`, createdAt: T0 + (from + i) * 1000 }));

function attempt(s: SinkRecord, over: Partial<SinkAttempt> = {}): SinkAttempt {
  return {
    id: newId('sinkAttempt', T0),
    sinkId: s.id,
    streamId: s.streamId,
    firstSeq: 1,
    lastSeq: 2,
    count: 2,
    outcome: 'success',
    responseStatus: 200,
    error: null,
    durationMs: 5,
    createdAt: T0,
    ...over,
  };
}

export function streamStoreContract(name: string, factory: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`stream store contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await factory());
      await store.migrate();
    });
    after(async () => dispose());

    it('creates, finds by id or uid, pages, updates and deletes streams', async () => {
      const made = [stream({ uid: 'orders-a' }), stream(), stream()];
      for (const s of made) await store.streams.createStream(s);
      assert.equal((await store.streams.getStream('orders-a'))?.id, made[0]!.id);
      assert.equal((await store.streams.getStream(made[1]!.id))?.id, made[1]!.id);
      await assert.rejects(store.streams.createStream(stream({ uid: 'orders-a' })), (e: unknown) => e instanceof AppError && e.code === 'conflict');
      const first = await store.streams.listStreams({ limit: 2 });
      assert.equal(first.data.length, 2);
      assert.equal(first.done, false);
      const second = await store.streams.listStreams({ limit: 2, iterator: first.iterator! });
      const ids = [...first.data, ...second.data].map((s) => s.id);
      for (const s of made) assert.ok(ids.includes(s.id));
      await store.streams.updateStream({ ...made[0]!, name: 'renamed', metadata: { a: 'b' }, updatedAt: T0 + 1 });
      const got = await store.streams.getStream(made[0]!.id);
      assert.equal(got?.name, 'renamed');
      assert.deepEqual(got?.metadata, { a: 'b' });
      await store.streams.deleteStream(made[2]!.id);
      assert.equal(await store.streams.getStream(made[2]!.id), null);
    });

    it('keeps stream event types, archived ones listed only on request', async () => {
      const base = { description: 'd', deprecated: false, featureFlags: null, createdAt: T0, updatedAt: T0 };
      await store.streams.createEventType({ ...base, name: 'a.one', archived: false });
      await store.streams.createEventType({ ...base, name: 'a.two', archived: true, featureFlags: ['beta'] });
      const live = await store.streams.listEventTypes({ limit: 10, includeArchived: false });
      assert.deepEqual(live.data.map((e) => e.name), ['a.one']);
      const all = await store.streams.listEventTypes({ limit: 10, includeArchived: true });
      assert.deepEqual(all.data.map((e) => e.name), ['a.one', 'a.two']);
      assert.deepEqual(all.data[1]!.featureFlags, ['beta']);
      await store.streams.updateEventType({ ...base, name: 'a.one', archived: false, deprecated: true, updatedAt: T0 + 5 });
      assert.equal((await store.streams.getEventType('a.one'))?.deprecated, true);
      await store.streams.deleteEventType('a.one');
      assert.equal(await store.streams.getEventType('a.one'), null);
    });

    it('creates sinks, finds them by id or uid within their stream, pages and updates them', async () => {
      const s = stream();
      await store.streams.createStream(s);
      const a = sink(s.id, { uid: 'warehouse' });
      const b = sink(s.id, { type: 'poller', config: '{}' });
      await store.streams.createSink(a);
      await store.streams.createSink(b);
      await assert.rejects(store.streams.createSink(sink(s.id, { uid: 'warehouse' })), (e: unknown) => e instanceof AppError && e.code === 'conflict');
      assert.equal((await store.streams.getSink(s.id, 'warehouse'))?.id, a.id);
      assert.equal(await store.streams.getSink('strm_other', a.id), null);
      const got = await store.streams.getSink(s.id, a.id);
      assert.deepEqual(got, a);
      const page = await store.streams.listSinks(s.id, { limit: 1 });
      assert.equal(page.data.length, 1);
      assert.equal(page.done, false);
      const rest = await store.streams.listSinks(s.id, { limit: 1, iterator: page.iterator! });
      assert.deepEqual([page.data[0]!.id, rest.data[0]!.id].sort(), [a.id, b.id].sort());
      const deliverable = await store.streams.listDeliverableSinks();
      assert.ok(deliverable.some((x) => x.id === a.id));
      assert.ok(!deliverable.some((x) => x.id === b.id), 'pollers are not delivered to');
      await store.streams.updateSink({ ...a, batchSize: 7, status: 'disabled', cursor: 99, headers: { x: 'y' }, updatedAt: T0 + 1 });
      const changed = await store.streams.getSink(s.id, a.id);
      assert.equal(changed?.batchSize, 7);
      assert.equal(changed?.status, 'disabled');
      assert.deepEqual(changed?.headers, { x: 'y' });
      assert.equal(changed?.cursor, 0, 'updateSink leaves the cursor alone');
      await store.streams.setSinkCursor(a.id, 3);
      assert.equal((await store.streams.getSink(s.id, a.id))?.cursor, 3);
      await store.streams.deleteSink(s.id, b.id);
      assert.equal(await store.streams.getSink(s.id, b.id), null);
    });

    it('appends events with consecutive seq, once per id, and reads them back with filters', async () => {
      const s = stream();
      await store.streams.createStream(s);
      assert.equal(await store.streams.lastSeq(s.id), 0);
      const first = await store.streams.appendEvents(s.id, events(3));
      assert.deepEqual(first.map((e) => e.seq), [1, 2, 3]);
      const again = await store.streams.appendEvents(s.id, [...events(2, 2), ...events(1, 4, 'order.paid'), ...events(1, 4, 'order.paid')]);
      assert.deepEqual(again.map((e) => [e.id, e.seq]), [['evt_3', 4], ['evt_4', 5]], 'evt_2 and a repeated evt_4 are skipped');
      assert.equal(await store.streams.lastSeq(s.id), 5);
      const all = await store.streams.readEvents(s.id, 0, 10, []);
      assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual(all[0], { id: 'evt_0', eventType: 'order.created', payload: '{"n":0}', createdAt: T0, streamId: s.id, seq: 1 });
      assert.deepEqual((await store.streams.readEvents(s.id, 2, 2, [])).map((e) => e.seq), [3, 4]);
      assert.deepEqual((await store.streams.readEvents(s.id, 0, 10, ['order.paid'])).map((e) => e.id), ['evt_4']);
      assert.equal(await store.streams.seqBefore(s.id, T0 + 2000), 2);
      assert.equal(await store.streams.seqBefore(s.id, 0), 0);
      assert.equal(await store.streams.seqBefore(s.id, T0 + 1e9), 5);
      const other = stream();
      await store.streams.createStream(other);
      assert.deepEqual((await store.streams.appendEvents(other.id, events(1))).map((e) => e.seq), [1], 'an id is unique per stream only');
    });

    it('assigns distinct consecutive seq to concurrent appends', async () => {
      const s = stream();
      await store.streams.createStream(s);
      await Promise.all(Array.from({ length: 5 }, (_, i) => store.streams.appendEvents(s.id, events(4, i * 10))));
      const all = await store.streams.readEvents(s.id, 0, 100, []);
      assert.deepEqual(all.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('stores each id once when concurrent appends repeat ids (a client retrying on another connection)', async () => {
      const s = stream();
      await store.streams.createStream(s);
      // Each append: the 3 shared ids, and one of its own.
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.streams.appendEvents(s.id, [...events(3), ...events(1, 100 + i)])));
      const all = await store.streams.readEvents(s.id, 0, 100, []);
      assert.deepEqual(all.map((e) => e.seq), Array.from({ length: 9 }, (_, i) => i + 1), 'consecutive, without gaps');
      assert.deepEqual(all.map((e) => e.id).sort(), [...['evt_0', 'evt_1', 'evt_2'], ...Array.from({ length: 6 }, (_, i) => `evt_${100 + i}`)].sort());
      assert.equal(results.flat().length, 9, 'each stored event reported once, to the append that stored it');
    });

    it('leases due sinks once, fences a stale lease token, and records attempts', async () => {
      const s = stream();
      await store.streams.createStream(s);
      const a = sink(s.id);
      await store.streams.createSink(a);
      await store.streams.createSink(sink(s.id, { type: 'poller', config: '{}' }));
      const now = T0 + 10_000;
      assert.deepEqual((await store.streams.leaseDueSinks(now, 1000, 10)).filter((l) => l.sink.streamId === s.id), [], 'nothing to deliver yet');
      await store.streams.appendEvents(s.id, events(2));
      const [lease] = (await store.streams.leaseDueSinks(now, 1000, 100)).filter((l) => l.sink.streamId === s.id);
      assert.equal(lease?.sink.id, a.id);
      assert.deepEqual((await store.streams.leaseDueSinks(now, 1000, 100)).filter((l) => l.sink.streamId === s.id), [], 'a leased sink is not leased again');
      // The lease runs out; another node takes the sink.
      const [second] = (await store.streams.leaseDueSinks(now + 2000, 1000, 100)).filter((l) => l.sink.streamId === s.id);
      assert.ok(second && second.leaseToken !== lease.leaseToken);
      const settlement = { cursor: 2, status: 'enabled' as const, failureReason: null, nextRetryAt: null, failures: 0 };
      assert.equal(await store.streams.settleSink(a.id, lease.leaseToken, settlement, attempt(a)), false, 'the stale lease settles nothing');
      assert.equal((await store.streams.getSink(s.id, a.id))?.cursor, 0);
      assert.equal((await store.streams.listSinkAttempts(a.id, { limit: 10 })).data.length, 0);
      assert.equal(await store.streams.settleSink(a.id, second.leaseToken, settlement, attempt(a)), true);
      assert.equal((await store.streams.getSink(s.id, a.id))?.cursor, 2);
      assert.deepEqual((await store.streams.leaseDueSinks(now + 2000, 1000, 100)).filter((l) => l.sink.streamId === s.id), [], 'caught up');
      // A failure: retrying later, the cursor kept.
      await store.streams.appendEvents(s.id, events(1, 2));
      const [third] = (await store.streams.leaseDueSinks(now + 3000, 1000, 100)).filter((l) => l.sink.streamId === s.id);
      const failed = { status: 'retrying' as const, failureReason: 'HTTP 500', nextRetryAt: now + 60_000, failures: 1 };
      assert.equal(await store.streams.settleSink(a.id, third!.leaseToken, failed, attempt(a, { id: newId('sinkAttempt', T0 + 1), outcome: 'failure', responseStatus: 500, error: 'HTTP 500' })), true);
      const after = await store.streams.getSink(s.id, a.id);
      assert.deepEqual([after?.cursor, after?.status, after?.failureReason, after?.nextRetryAt, after?.failures], [2, 'retrying', 'HTTP 500', now + 60_000, 1]);
      assert.deepEqual((await store.streams.leaseDueSinks(now + 4000, 1000, 100)).filter((l) => l.sink.streamId === s.id), [], 'not due before nextRetryAt');
      const [fourth] = (await store.streams.leaseDueSinks(now + 60_000, 1000, 100)).filter((l) => l.sink.streamId === s.id);
      assert.ok(fourth);
      await store.streams.releaseSink(a.id, fourth.leaseToken);
      assert.equal((await store.streams.leaseDueSinks(now + 60_000, 1000, 100)).filter((l) => l.sink.streamId === s.id).length, 1, 'a released sink is leased again');
      const attempts = await store.streams.listSinkAttempts(a.id, { limit: 1 });
      assert.equal(attempts.data[0]?.outcome, 'failure', 'newest first');
      assert.equal(attempts.done, false);
      const older = await store.streams.listSinkAttempts(a.id, { limit: 1, iterator: attempts.iterator! });
      assert.equal(older.data[0]?.outcome, 'success');
    });

    it('never leases one sink twice to concurrent callers', async () => {
      const s = stream();
      await store.streams.createStream(s);
      const sinks = Array.from({ length: 6 }, () => sink(s.id));
      for (const x of sinks) await store.streams.createSink(x);
      await store.streams.appendEvents(s.id, events(1));
      const now = T0 + 500_000;
      const rounds = await Promise.all([1, 2, 3].map(() => store.streams.leaseDueSinks(now, 60_000, 2)));
      const leased = rounds.flat().filter((l) => l.sink.streamId === s.id).map((l) => l.sink.id);
      assert.equal(new Set(leased).size, leased.length, 'a sink leased twice');
    });

    it('keeps stream tokens: poller rotation, portal expiry by session, revocation', async () => {
      const s = stream();
      await store.streams.createStream(s);
      const tok = (over: Record<string, unknown>) => ({
        id: newId('streamToken', T0),
        hash: `h-${Math.random()}`,
        kind: 'portal' as const,
        streamId: s.id,
        sinkId: null,
        sessionId: null,
        token: null,
        createdAt: T0,
        expiresAt: null,
        revokedAt: null,
        ...over,
      });
      const p1 = tok({ kind: 'poller', sinkId: 'sink_1', token: 'sb_stream_poller_plain_0001' });
      await store.streams.createStreamToken(p1);
      assert.equal((await store.streams.currentPollerToken('sink_1'))?.token, 'sb_stream_poller_plain_0001');
      const p2 = tok({ kind: 'poller', sinkId: 'sink_1', token: 'sb_stream_poller_plain_0002' });
      await store.streams.rotatePollerToken(p2, T0 + 500);
      assert.equal((await store.streams.currentPollerToken('sink_1'))?.id, p2.id);
      assert.equal((await store.streams.streamTokenByHash(p1.hash))?.expiresAt, T0 + 500);
      const a = tok({ sessionId: 's1' });
      const b = tok({ sessionId: 's2' });
      await store.streams.createStreamToken(a);
      await store.streams.createStreamToken(b);
      assert.equal(await store.streams.expirePortalTokens(s.id, T0 + 1, ['s1']), 1);
      assert.equal((await store.streams.streamTokenByHash(a.hash))?.expiresAt, T0 + 1);
      assert.equal((await store.streams.streamTokenByHash(b.hash))?.expiresAt, null);
      await store.streams.revokeStreamToken(b.id, T0 + 2);
      assert.equal((await store.streams.streamTokenByHash(b.hash))?.revokedAt, T0 + 2);
    });

    it('seals sink configs, secrets, headers and poller tokens at rest', async () => {
      const s = stream();
      await store.streams.createStream(s);
      await store.streams.createSink(sink(s.id));
      const rows = await rawRows(store, 'SELECT config, secret, headers FROM stream_sinks WHERE stream_id = ?', s.id);
      const tokens = await rawRows(store, 'SELECT sealed FROM stream_tokens');
      const text = JSON.stringify([rows, tokens]);
      for (const plain of ['plain-sink-key-0001', 'whsec_plainSinkSecret0001', 'plain-header-0001', 'sb_stream_poller_plain_0001']) {
        assert.ok(!text.includes(plain), `${plain} is stored in plain text`);
      }
      assert.equal(rows.length, 1);
    });
  });
}

/**
 * Ordered claims in the store (storage/contract/ordering.ts), on SQLite and PostgreSQL: per
 * ordering key only the oldest unfinished delivery is leased, and only while no other of the
 * key is in flight; keys go in parallel; the pause and skip policies; resend and replay keep
 * the message's place; deliveries without a key get one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Endpoint, Message } from '../../src/domain/model.js';
import { orderingOf } from '../../src/domain/ordering.js';
import type { ClaimedDelivery, Store } from '../../src/storage/contract/store.js';
import { T0, app, attemptRecord, endpoint, message } from '../helpers/fixtures.js';
import { onBothDatabases, useMigratedStore } from '../helpers/stores.js';

const LEASE = 60_000;

onBothDatabases((name, make) => {
  describe(`ordered claims: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    /** An app with an ordered endpoint (policy as given) and `keys.length` messages published to it. */
    async function setup(policy: 'pause' | 'skip' | null, keys: (string | undefined)[], metadata: Record<string, string> = {}) {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id, { metadata: policy ? { 'switchboard.ordering': policy, ...metadata } : metadata });
      await store.createEndpoint(ep);
      const msgs = keys.map((_k, i) => message(a.id, T0 + i));
      await store.publish(
        msgs.map((m, i) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null, ...(keys[i] !== undefined ? { orderingKey: keys[i] } : {}) }] })),
      );
      return { a, ep, msgs };
    }

    const claim = async (ep: Endpoint, now: number, limit = 10): Promise<ClaimedDelivery[]> => (await store.ordering.claimDue(ep.id, limit, now, now + LEASE, null))!.claims;
    const ids = (cs: ClaimedDelivery[]) => cs.map((c) => c.message.id).sort();
    const idsOf = (ms: Message[]) => ms.map((m) => m.id).sort();
    const ok = (c: ClaimedDelivery, at: number) => store.recordAttempts([attemptRecord(c, { status: DeliveryStatus.Success }, at)]);
    const fail = (c: ClaimedDelivery, at: number) => store.recordAttempts([attemptRecord(c, { status: DeliveryStatus.Fail }, at)]);

    it('claims only the oldest unfinished delivery of each key, keys in parallel', async () => {
      const { ep, msgs } = await setup('pause', ['a', 'b', 'a', 'b', 'a']);
      const first = await claim(ep, T0 + 10);
      assert.deepEqual(ids(first), idsOf([msgs[0]!, msgs[1]!]), 'one per key');
      assert.deepEqual(first.map((c) => c.orderingKey).sort(), ['a', 'b']);
      assert.deepEqual(await claim(ep, T0 + 11), [], 'nothing while each key has one in flight');
      await ok(first.find((c) => c.orderingKey === 'a')!, T0 + 12);
      const second = await claim(ep, T0 + 13);
      assert.deepEqual(ids(second), idsOf([msgs[2]!]), 'the next of key a, while b is still in flight');
      // A retry scheduled later holds the key until it is due.
      await store.recordAttempts([attemptRecord(second[0]!, { status: DeliveryStatus.Pending, at: T0 + 1000 }, T0 + 14, false)]);
      assert.deepEqual(await claim(ep, T0 + 15), [], 'the key waits for its retry');
      const retried = await claim(ep, T0 + 1000);
      assert.deepEqual(ids(retried), idsOf([msgs[2]!]), 'the retry goes first, not message 5');
    });

    it('takes back an expired lease of the head before anything behind it', async () => {
      const { ep, msgs } = await setup('skip', ['k', 'k']);
      await claim(ep, T0 + 10);
      assert.deepEqual(await claim(ep, T0 + 20), []);
      const again = await claim(ep, T0 + 10 + LEASE + 1);
      assert.deepEqual(ids(again), idsOf([msgs[0]!]));
    });

    it('pause: a failed delivery stops its key until it is resent or the key resumed', async () => {
      const { ep, msgs, a } = await setup('pause', ['k', 'k', 'k', 'other']);
      const [head, other] = [...(await claim(ep, T0 + 10))].sort((x, y) => (x.orderingKey! < y.orderingKey! ? -1 : 1));
      assert.equal(head!.orderingKey, 'k');
      assert.equal(other!.orderingKey, 'other');
      await fail(head!, T0 + 11);
      await ok(other!, T0 + 11);
      assert.deepEqual(await claim(ep, T0 + 12), [], 'key k is paused');
      const paused = await store.ordering.pausedKeys(ep.id, 10);
      assert.deepEqual(paused.map((p) => [p.key, p.messageId]), [['k', msgs[0]!.id]]);
      // A resend of the failed message runs it first; the next one waits behind it.
      await store.resend(msgs[0]!.id, ep.id, a.id, T0 + 20);
      const resent = await claim(ep, T0 + 21);
      assert.deepEqual(ids(resent), idsOf([msgs[0]!]));
      await fail(resent[0]!, T0 + 22);
      assert.deepEqual(await claim(ep, T0 + 23), [], 'failing again pauses the key again');
      assert.equal(await store.ordering.resume(ep.id, 'k', T0 + 24), 1);
      assert.equal(await store.ordering.resume(ep.id, 'k', T0 + 24), 0, 'nothing left to resume');
      assert.deepEqual(await store.ordering.pausedKeys(ep.id, 10), []);
      const next = await claim(ep, T0 + 25);
      assert.deepEqual(ids(next), idsOf([msgs[1]!]), 'resumed: the next message goes');
    });

    it('skip: a failed delivery lets the next of its key go; a resend of it goes first', async () => {
      const { ep, msgs, a } = await setup('skip', ['k', 'k', 'k']);
      const [head] = await claim(ep, T0 + 10);
      await fail(head!, T0 + 11);
      const [second] = await claim(ep, T0 + 12);
      assert.equal(second!.message.id, msgs[1]!.id);
      await ok(second!, T0 + 13);
      await store.resend(msgs[0]!.id, ep.id, a.id, T0 + 14);
      const resent = await claim(ep, T0 + 15);
      assert.deepEqual(ids(resent), idsOf([msgs[0]!]), 'the resent message 1 goes before message 3');
      assert.deepEqual(await claim(ep, T0 + 16), [], 'and message 3 waits behind it');
    });

    it('answers null for an endpoint that is not ordered, or missing', async () => {
      const { ep } = await setup(null, [undefined]);
      assert.equal(await store.ordering.claimDue(ep.id, 5, T0 + 10, T0 + LEASE, null), null);
      assert.equal(await store.ordering.claimDue('ep_missing', 5, T0 + 10, T0 + LEASE, null), null);
    });

    it('gives deliveries published without a key their key from the message, in message order', async () => {
      const { ep, msgs } = await setup(null, [undefined, undefined, undefined]);
      // The endpoint becomes ordered on tags with a prefix after these were published.
      const tagged = { ...ep, metadata: { 'switchboard.ordering': 'skip', 'switchboard.orderingKeyTagPrefix': 'order:' }, updatedAt: T0 + 5 };
      await store.updateEndpoint(tagged);
      const c1 = await claim(tagged, T0 + 10);
      // Without tags every message has the empty key: one sequence.
      assert.deepEqual(ids(c1), idsOf([msgs[0]!]));
      assert.equal(c1[0]!.orderingKey, '');
    });

    it('keys a delivery published without a key soon after the settings changed (a stale endpoint cache) before claiming', async () => {
      const { ep, msgs } = await setup('pause', ['a']);
      const first = await claim(ep, T0 + 10);
      assert.deepEqual(ids(first), idsOf([msgs[0]!]));
      // A node whose cache still saw the endpoint unordered inserts a delivery without a key.
      const stale = message(ep.appId, T0 + 20);
      await store.publish([{ message: stale, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      const second = await claim(ep, T0 + 30);
      assert.deepEqual(ids(second), [stale.id], 'keyed (the empty key: the message has none) and claimed beside key a');
      assert.equal(second[0]!.orderingKey, '');
      // Another, once key '' is in flight: keyed too, and held behind the first of its key.
      const later = message(ep.appId, T0 + 40);
      await store.publish([{ message: later, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      assert.deepEqual(await claim(ep, T0 + 50), []);
      await ok(second[0]!, T0 + 60);
      assert.deepEqual(ids(await claim(ep, T0 + 70)), [later.id]);
    });

    it('creates replayed deliveries at their message position, with keys from the payload', async () => {
      const a = app();
      await store.createApplication(a);
      const meta = { 'switchboard.ordering': 'pause', 'switchboard.orderingKeyPath': 'data.order_id' };
      const ep = endpoint(a.id, { metadata: meta });
      await store.createEndpoint(ep);
      const payload = (id: string) => JSON.stringify({ data: { order_id: id } });
      const old = message(a.id, T0, { payload: payload('o1') });
      await store.publish([{ message: old, deliveries: [] }]);
      const later = message(a.id, T0 + 1, { payload: payload('o1') });
      await store.publish([{ message: later, deliveries: [{ endpointId: ep.id, leaseUntil: null, orderingKey: 'o1' }] }]);
      const n = await store.ordering.addDeliveries(ep.id, a.id, orderingOf(meta)!, [old.id], T0 + 5);
      assert.equal(n, 1);
      assert.equal(await store.ordering.addDeliveries(ep.id, a.id, orderingOf(meta)!, [old.id], T0 + 5), 0, 'once');
      const first = await claim(ep, T0 + 10);
      assert.deepEqual(ids(first), [old.id], 'the older message goes first although its delivery is newer');
      assert.equal(first[0]!.orderingKey, 'o1');
    });

    it('counts live leases of every node against the concurrency cap', async () => {
      const { ep } = await setup('skip', ['a', 'b', 'c']);
      const r = (await store.ordering.claimDue(ep.id, 10, T0 + 10, T0 + LEASE, 2))!;
      assert.equal(r.claims.length, 2);
      assert.notEqual(r.retryInMs, null, 'held back by the cap: claim again later');
      const r2 = (await store.ordering.claimDue(ep.id, 10, T0 + 11, T0 + LEASE, 2))!;
      assert.equal(r2.claims.length, 0);
      if (!store.cluster) return;
      // A request that ended frees its slot, though its key waits for its record.
      const ended = r.claims[0]!;
      store.cluster.countEndedRequests(() => [ended.deliveryId]);
      const r3 = (await store.ordering.claimDue(ep.id, 10, T0 + 12, T0 + LEASE, 2))!;
      assert.deepEqual(r3.claims.map((c) => c.orderingKey), ['c'], "the third key's head goes; the ended one's key still waits");
    });
  });
});

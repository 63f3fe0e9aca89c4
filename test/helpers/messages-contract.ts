/**
 * The message storage contract: publishing with deliveries in one commit, duplicate eventIds, filtered listings.
 * Every Store implementation must pass it; test/storage/message-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { T0, app, endpoint, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** Runs the contract against stores made by `make`. */
export function messagesContract(name: string, make: () => Promise<TestStore>): void {
  describe(`messages contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('publishes messages with deliveries in one commit and refuses a duplicate eventId', async () => {
      const a = app();
      await store.createApplication(a);
      const e1 = endpoint(a.id);
      const e2 = endpoint(a.id);
      await store.createEndpoint(e1);
      await store.createEndpoint(e2);
      const m1 = message(a.id, T0, { eventId: 'evt-1' });
      const m2 = message(a.id, T0, { eventId: 'evt-1' });
      const [r1, r2] = await store.publish([
        { message: m1, deliveries: [{ endpointId: e1.id, leaseUntil: null }, { endpointId: e2.id, leaseUntil: T0 + 60_000 }] },
        { message: m2, deliveries: [{ endpointId: e1.id, leaseUntil: null }] },
      ]);
      assert.equal(r1!.kind, 'created');
      assert.deepEqual(r2, { kind: 'duplicate-event-id', existingId: m1.id });
      assert.equal((await store.getMessage(a.id, 'evt-1'))?.id, m1.id);
      assert.equal(await store.getMessage(a.id, m2.id), null);
      const [later] = await store.publish([{ message: message(a.id, T0 + 1, { eventId: 'evt-1' }), deliveries: [{ endpointId: e1.id, leaseUntil: null }] }]);
      assert.deepEqual(later, { kind: 'duplicate-event-id', existingId: m1.id }, 'a duplicate of a message stored before');
      // The leased one belongs to its publisher until the lease ends; the other is due.
      assert.deepEqual(await store.dueEndpoints(T0, 100), [e1.id]);
      const s1 = await store.endpointStats(e2.id, null, null);
      assert.equal(s1.sending, 1);
      if (r1?.kind !== 'created') return;
      const leased = r1.deliveries.find((d) => d.endpointId === e2.id)!;
      const loaded = await store.loadClaimed([{ appId: a.id, deliveryId: leased.deliveryId, leaseToken: leased.leaseToken }]);
      assert.equal(loaded.length, 1);
      assert.equal(loaded[0]!.message.payload, '{"a":1}');
    });

    it('filters messages by type, channel, tag and time', async () => {
      const a = app();
      await store.createApplication(a);
      await store.publish([
        { message: message(a.id, T0, { eventType: 'x', channels: ['c1'], tags: ['t1'] }), deliveries: [] },
        { message: message(a.id, T0 + 5, { eventType: 'y', channels: ['c2'] }), deliveries: [] },
      ]);
      assert.equal((await store.listMessages(a.id, { limit: 10, eventTypes: ['x'] })).data.length, 1);
      assert.deepEqual((await store.listMessages(a.id, { limit: 10, eventTypes: ['y', 'x', 'z'] })).data.map((m) => m.eventType), ['y', 'x'], 'any of several types');
      assert.equal((await store.listMessages(a.id, { limit: 10, eventTypes: ["x' OR 1=1 --", 'q'] })).data.length, 0, 'types are values, never SQL');
      assert.equal((await store.listMessages(a.id, { limit: 10, channel: 'c2' })).data[0]!.eventType, 'y');
      assert.equal((await store.listMessages(a.id, { limit: 10, tag: 't1' })).data[0]!.eventType, 'x');
      assert.equal((await store.listMessages(a.id, { limit: 10, after: T0 })).data.length, 1);
      assert.equal((await store.listMessages(a.id, { limit: 10, before: T0 + 5 })).data.length, 1);
      const all = await store.listMessages(a.id, { limit: 10 });
      assert.equal(all.data[0]!.eventType, 'y', 'newest first');
    });
  });
}

/**
 * The delivery queue storage contract: claims under a lease, fencing, settling, releasing, disabling, recovery, resend and replay.
 * Every Store implementation must pass it; test/storage/queue-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStatus, TriggerType } from '../../src/domain/model.js';
import { T0, app, attemptRecord, endpoint, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** Runs the contract against stores made by `make`. */
export function queueContract(name: string, make: () => Promise<TestStore>): void {
  describe(`delivery queue contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('claims due deliveries under a lease, fences stale leases, and retakes expired ones', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const msgs = [0, 1, 2].map((i) => message(a.id, T0 + i));
      await store.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const first = await store.claimDue(ep.id, 2, T0 + 10, T0 + 1000);
      assert.equal(first.length, 2);
      assert.deepEqual(first.map((c) => c.message.id), [msgs[0]!.id, msgs[1]!.id]);
      assert.equal(first[0]!.endpoint.id, ep.id);
      assert.equal(first[0]!.app.headerStyle, 'standard');
      const second = await store.claimDue(ep.id, 5, T0 + 10, T0 + 1000);
      assert.deepEqual(second.map((c) => c.message.id), [msgs[2]!.id], 'leased deliveries are not claimed twice');
      // The lease on the first ends; another claimer takes it with a new token.
      const retaken = await store.claimDue(ep.id, 5, T0 + 1001, T0 + 2000);
      assert.equal(retaken.length, 3);
      const stale = first[0]!;
      const fresh = retaken.find((c) => c.deliveryId === stale.deliveryId)!;
      assert.notEqual(fresh.leaseToken, stale.leaseToken);
      await store.recordAttempts([attemptRecord(stale, { status: DeliveryStatus.Success }, T0 + 1500)]);
      let dest = await store.listMessageDestinations(a.id, stale.message.id, { limit: 10 });
      assert.equal(dest.data[0]!.status, DeliveryStatus.Sending, 'a stale lease does not change the state');
      const attempts = await store.listAttemptsByMessage(a.id, stale.message.id, { limit: 10 });
      assert.equal(attempts.data.length, 1, 'but its attempt is on record');
      await store.recordAttempts([attemptRecord(fresh, { status: DeliveryStatus.Pending, at: T0 + 5000 }, T0 + 1600)]);
      dest = await store.listMessageDestinations(a.id, stale.message.id, { limit: 10 });
      assert.equal(dest.data[0]!.status, DeliveryStatus.Pending);
      assert.equal(dest.data[0]!.nextAttemptAt, T0 + 5000);
      assert.ok((await store.nextDueAt())! <= T0 + 2000, 'the earliest due time covers leases too');
      // Start-up of a single node: every lease is released and due at once.
      assert.ok((await store.releaseAllLeases(T0 + 1700)) >= 2);
      const again = await store.claimDue(ep.id, 10, T0 + 1700, T0 + 9000);
      assert.equal(again.length, 2);
      await store.releaseLeases(again.map((c) => ({ deliveryId: c.deliveryId, leaseToken: c.leaseToken })), T0 + 1800);
      assert.equal((await store.claimDue(ep.id, 10, T0 + 1800, T0 + 9000)).length, 2);
    });

    it('fails waiting deliveries of a disabled endpoint and recovers them later', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const m = message(a.id, T0);
      await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      await store.updateEndpoint({ ...ep, disabled: true, updatedAt: T0 + 1 });
      assert.equal((await store.endpointStats(ep.id, null, null)).fail, 1);
      assert.deepEqual(await store.dueEndpoints(T0 + 2, 100).then((l) => l.includes(ep.id)), false);
      await store.updateEndpoint({ ...ep, disabled: false, updatedAt: T0 + 2 });
      assert.equal(await store.recoverFailed(ep.id, T0 - 1, null, T0 + 3), 1);
      const c = await store.claimDue(ep.id, 10, T0 + 3, T0 + 100);
      assert.equal(c.length, 1);
      assert.equal(c[0]!.trigger, TriggerType.Manual);
    });

    it('resends, replays missing messages, and counts per endpoint', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      const late = endpoint(a.id);
      await store.createEndpoint(ep);
      await store.createEndpoint(late);
      const ms = [0, 1, 2].map((i) => message(a.id, T0 + i));
      await store.publish(ms.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const missing = await store.messagesWithoutDelivery(a.id, late.id, T0, T0 + 2);
      assert.deepEqual(missing.map((m) => m.id), [ms[0]!.id, ms[1]!.id]);
      assert.equal(await store.addDeliveries(late.id, a.id, missing.map((m) => m.id), T0 + 10), 2);
      assert.equal(await store.addDeliveries(late.id, a.id, missing.map((m) => m.id), T0 + 10), 0, 'replaying twice adds nothing');
      await store.resend(ms[2]!.id, late.id, a.id, T0 + 11);
      assert.equal((await store.endpointStats(late.id, null, null)).pending, 3);
      const page = await store.listEndpointMessages(a.id, late.id, { limit: 10 });
      assert.equal(page.data.length, 3);
    });
  });
}

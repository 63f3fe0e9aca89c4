/**
 * The attempt history storage contract: attempts by message and by endpoint with their
 * filters, one attempt by id, expunging its content, and deliveries with their state.
 * Every Store implementation must pass it; test/storage/attempt-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Store } from '../../src/storage/contract/store.js';
import { T0, app, attemptRecord, endpoint, message } from './fixtures.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** Runs the contract against stores made by `make`. */
export function attemptHistoryContract(name: string, make: () => Promise<TestStore>): void {
  describe(`attempt history contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('lists attempts by message and by endpoint with their filters, finds one, and expunges its content', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const m = message(a.id, T0, { eventType: 'order.paid', channels: ['eu'] });
      await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      const [first] = await store.claimDue(ep.id, 1, T0 + 1, T0 + 1000);
      const failed = attemptRecord(first!, { status: DeliveryStatus.Pending, at: T0 + 100 }, T0 + 2);
      failed.attempt = { ...failed.attempt, response: 'boom' };
      await store.recordAttempts([failed]);
      const [second] = await store.claimDue(ep.id, 1, T0 + 100, T0 + 1000);
      const ok = attemptRecord(second!, { status: DeliveryStatus.Success }, T0 + 101);
      await store.recordAttempts([ok]);

      const all = await store.listAttemptsByMessage(a.id, m.id, { limit: 10 });
      assert.deepEqual(all.data.map((x) => x.id), [ok.attempt.id, failed.attempt.id], 'newest first');
      const fails = await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, status: DeliveryStatus.Fail });
      assert.deepEqual(fails.data.map((x) => x.id), [failed.attempt.id]);
      const fiveHundreds = await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, statusCodeClass: 500 });
      assert.deepEqual(fiveHundreds.data.map((x) => x.id), [failed.attempt.id]);
      assert.equal((await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, eventTypes: ['order.paid'], channel: 'eu' })).data.length, 2);
      assert.equal((await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, eventTypes: ['other'] })).data.length, 0);
      assert.equal((await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, eventTypes: ['other', 'order.paid'], channel: 'eu' })).data.length, 2, 'any of several types');
      assert.equal((await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10, after: T0 + 2 })).data.length, 1);

      assert.equal((await store.getAttempt(a.id, m.id, failed.attempt.id))?.response, 'boom');
      await store.expungeAttemptContent(a.id, m.id, failed.attempt.id);
      assert.equal((await store.getAttempt(a.id, m.id, failed.attempt.id))?.response, '');
      assert.equal(await store.getAttempt(a.id, m.id, 'atmpt_missing'), null);

      const dest = await store.listMessageDestinations(a.id, m.id, { limit: 10 });
      assert.deepEqual(dest.data.map((d) => [d.endpoint.id, d.status, d.nextAttemptAt]), [[ep.id, DeliveryStatus.Success, null]]);
      const sent = await store.listEndpointMessages(a.id, ep.id, { limit: 10, status: DeliveryStatus.Success });
      assert.deepEqual(sent.data.map((x) => x.message.id), [m.id]);
      assert.equal((await store.listEndpointMessages(a.id, ep.id, { limit: 10, status: DeliveryStatus.Fail })).data.length, 0);
    });
  });
}

/**
 * Contract of `Store.appAttemptStats` (the dashboard's charts and queue figures);
 * test/storage/stats-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus, TriggerType } from '../../src/domain/model.js';
import type { Application, Endpoint } from '../../src/domain/model.js';
import type { ClaimedDelivery, Store } from '../../src/storage/contract/store.js';
import { T0, app, endpoint, message } from './fixtures.js';
import { useMigratedStore } from './stores.js';

const MIN = 60_000;

/** Runs the contract against stores made by `make`. */
export function appStatsContract(name: string, make: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`store contract, application statistics: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    /** Publishes a message to `ep` at `at` and records one attempt `ms` long at `at + 1`. */
    async function attempt(a: Application, ep: Endpoint, at: number, eventType: string, ok: boolean, ms: number): Promise<void> {
      const m = message(a.id, at, { eventType, payload: '{}' });
      await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      const claimed: ClaimedDelivery[] = await store.claimDue(ep.id, 10, at, at + MIN);
      const c = claimed.find((x) => x.message.id === m.id)!;
      const when = at + 1;
      await store.recordAttempts([
        {
          attempt: {
            id: newId('attempt', when),
            messageId: m.id,
            endpointId: ep.id,
            appId: a.id,
            url: ep.url,
            status: ok ? DeliveryStatus.Success : DeliveryStatus.Fail,
            responseStatusCode: ok ? 200 : 500,
            response: '',
            responseDurationMs: ms,
            triggerType: TriggerType.Scheduled,
            createdAt: when,
          },
          deliveryId: c.deliveryId,
          leaseToken: c.leaseToken,
          next: ok ? { status: DeliveryStatus.Success } : { status: DeliveryStatus.Fail },
          disableEndpoint: false,
        },
      ]);
    }

    it('counts attempts per bucket and event type, with durations, inside the window only', async () => {
      const a = app({ name: 'stats' });
      const other = app({ name: 'stats' });
      await store.createApplication(a);
      await store.createApplication(other);
      const ep = endpoint(a.id);
      const otherEp = endpoint(other.id);
      await store.createEndpoint(ep);
      await store.createEndpoint(otherEp);
      await attempt(a, ep, T0 - 5 * MIN, 'early', true, 5); // before the window
      await attempt(a, ep, T0 + 10, 'invoice.paid', true, 20);
      await attempt(a, ep, T0 + 30_000, 'invoice.paid', false, 40);
      await attempt(a, ep, T0 + 2 * MIN + 5, 'user.created', true, 100);
      await attempt(other, otherEp, T0 + 20, 'invoice.paid', false, 999); // another application

      const s = await store.appAttemptStats(a.id, T0, T0 + 3 * MIN, MIN);
      assert.equal(s.buckets.length, 3);
      assert.deepEqual(
        s.buckets.map((b) => [b.start, b.success, b.failure, b.durationSumMs, b.maxDurationMs]),
        [
          [T0, 1, 1, 60, 40],
          [T0 + MIN, 0, 0, 0, 0],
          [T0 + 2 * MIN, 1, 0, 100, 100],
        ],
      );
      assert.deepEqual(s.byEventType, { 'invoice.paid': { success: 1, failure: 1 }, 'user.created': { success: 1, failure: 0 } });
      assert.deepEqual(s.queue, { pending: 0, sending: 0, oldestPendingAt: null });

      // A window that does not divide into whole buckets gets a last, partial one.
      assert.equal((await store.appAttemptStats(a.id, T0, T0 + 2 * MIN + 1, MIN)).buckets.length, 3);
    });

    it('reports unfinished deliveries and the oldest of them', async () => {
      const a = app({ name: 'stats' });
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const m1 = message(a.id, T0 + 100, { eventType: 'q', payload: '{}' });
      const m2 = message(a.id, T0 + 200, { eventType: 'q', payload: '{}' });
      await store.publish([{ message: m1, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      await store.publish([{ message: m2, deliveries: [{ endpointId: ep.id, leaseUntil: T0 + MIN }] }]);
      const s = await store.appAttemptStats(a.id, T0, T0 + MIN, MIN);
      assert.deepEqual(s.queue, { pending: 1, sending: 1, oldestPendingAt: T0 + 100 });
      assert.deepEqual(s.buckets.map((b) => b.success + b.failure), [0]);
    });
  });
}

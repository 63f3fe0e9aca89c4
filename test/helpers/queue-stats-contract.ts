/** The queue counts behind the queue metrics (`Store.queueStats`): test/storage/stats-store.test.ts runs it on SQLite and PostgreSQL. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { T0, app, endpoint, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';


/** The queueStats contract: every Store implementation must pass it. */
export function queueStatsContract(name: string, factory: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`queue stats contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await factory());
      await store.migrate();
    });
    after(async () => dispose());

    it('counts due, scheduled and sending deliveries and finds the oldest due', async () => {
      assert.deepEqual(await store.queueStats(T0), { due: 0, scheduled: 0, sending: 0, oldestDueAt: null });
      const appId = newId('application', T0);
      await store.createApplication(app({ id: appId, name: 'q' }));
      const ep = endpoint(appId);
      await store.createEndpoint(ep);
      const publish = async (at: number, leaseUntil: number | null) => {
        const m = message(appId, at, { eventType: 'q', payload: '{}' });
        await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil }] }]);
      };
      await publish(T0 - 5000, null); // due for 5 s
      await publish(T0 - 1000, null); // due for 1 s
      await publish(T0 + 60_000, null); // due later
      await publish(T0, T0 + 30_000); // leased, in flight
      await publish(T0 - 90_000, T0 - 60_000); // leased, lease expired 60 s ago: due again
      assert.deepEqual(await store.queueStats(T0), { due: 3, scheduled: 1, sending: 1, oldestDueAt: T0 - 60_000 });
      assert.deepEqual(await store.queueStats(T0 + 120_000), { due: 5, scheduled: 0, sending: 0, oldestDueAt: T0 - 60_000 });
    });
  });
}

/** The retention purge contract (`Store.purgeMessagesBefore`): test/storage/retention-store.test.ts runs it on SQLite and PostgreSQL. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus, TriggerType } from '../../src/domain/model.js';
import type { Endpoint, Message } from '../../src/domain/model.js';
import { DAY_MS } from '../../src/operations/retention.js';
import { T0, app, endpoint, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';




/** The retention contract: every Store implementation must pass it. */
export function retentionContract(name: string, factory: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`retention purge contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    const appId = newId('application', T0);
    let ep: Endpoint;

    before(async () => {
      ({ store, dispose } = await factory());
      await store.migrate();
      await store.createApplication(app({ id: appId, name: 'r' }));
      ep = endpoint(appId);
      await store.createEndpoint(ep);
    });
    after(async () => dispose());

    /** Publishes at `at` and, unless `pending`, delivers with one recorded attempt. */
    async function publish(at: number, pending = false): Promise<Message> {
      const m = message(appId, at);
      await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      if (!pending) {
        const [c] = await store.claimDue(ep.id, 1, at, at + 60_000);
        assert.ok(c);
        await store.recordAttempts([
          {
            attempt: {
              id: newId('attempt', at),
              messageId: m.id,
              endpointId: ep.id,
              appId,
              url: ep.url,
              status: DeliveryStatus.Success,
              responseStatusCode: 200,
              response: 'ok',
              responseDurationMs: 1,
              triggerType: TriggerType.Scheduled,
              createdAt: at,
            },
            deliveryId: c.deliveryId,
            leaseToken: c.leaseToken,
            next: { status: DeliveryStatus.Success },
            disableEndpoint: false,
          },
        ]);
      }
      return m;
    }

    it('deletes old messages with their deliveries and attempts, in batches, keeping recent and undelivered ones', async () => {
      const old = [await publish(T0 - 40 * DAY_MS), await publish(T0 - 35 * DAY_MS), await publish(T0 - 31 * DAY_MS)];
      const recent = await publish(T0 - DAY_MS);
      const stuck = await publish(T0 - 45 * DAY_MS, true);
      const cutoff = T0 - 30 * DAY_MS;
      assert.equal((await store.listAttemptsByMessage(appId, old[0]!.id, { limit: 10 })).data.length, 1);
      assert.equal(await store.purgeMessagesBefore(cutoff, 2), 2);
      assert.equal(await store.purgeMessagesBefore(cutoff, 2), 1);
      assert.equal(await store.purgeMessagesBefore(cutoff, 2), 0);
      for (const m of old) {
        assert.equal(await store.getMessage(appId, m.id), null);
        assert.equal((await store.listAttemptsByMessage(appId, m.id, { limit: 10 })).data.length, 0);
        assert.equal((await store.listMessageDestinations(appId, m.id, { limit: 10 })).data.length, 0);
      }
      assert.ok(await store.getMessage(appId, stuck.id), 'a message still being delivered is kept');
      assert.ok(await store.getMessage(appId, recent.id));
      assert.equal((await store.endpointStats(ep.id, null, null)).pending, 1);
    });
  });
}

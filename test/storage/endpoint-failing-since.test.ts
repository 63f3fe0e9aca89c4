/**
 * An endpoint's `failingSince` after a batch of attempt records, on SQLite and PostgreSQL: a
 * success clears it, the first failure after the last success sets it, a failure while it is
 * set keeps it, and a stale lease's attempt changes nothing (nor disables the endpoint).
 * PostgreSQL writes a whole batch's endpoint outcomes in one statement; the outcome must be
 * the one of recording one by one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Endpoint } from '../../src/domain/model.js';
import type { ClaimedDelivery, Store } from '../../src/storage/contract/store.js';
import { T0, app, attemptRecord, endpoint, message } from '../helpers/fixtures.js';
import { onBothDatabases, useMigratedStore } from '../helpers/stores.js';

const DONE = { status: DeliveryStatus.Success } as const;
const FAILED = { status: DeliveryStatus.Fail } as const;

onBothDatabases((name, make) => {
  describe(`endpoint failingSince after batched attempt records (${name})`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    async function endpointWithClaims(n: number): Promise<{ ep: Endpoint; claims: ClaimedDelivery[] }> {
      const ap = app();
      await store.createApplication(ap);
      const ep = endpoint(ap.id);
      await store.createEndpoint(ep);
      const msgs = Array.from({ length: n }, (_, i) => message(ap.id, T0 + i));
      await store.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const claims = await store.claimDue(ep.id, n, T0 + 100, T0 + 60_000);
      assert.equal(claims.length, n);
      return { ep, claims };
    }

    const failingSince = async (ep: Endpoint): Promise<number | null> => (await store.getEndpoint(ep.appId, ep.id))!.failingSince;

    it('follows the order of the records of one batch, over several endpoints', async () => {
      const x = await endpointWithClaims(3);
      const y = await endpointWithClaims(2);
      const z = await endpointWithClaims(1);
      await store.recordAttempts([
        // x: fails, succeeds, fails: failing since the last failure.
        attemptRecord(x.claims[0]!, FAILED, T0 + 200),
        attemptRecord(y.claims[0]!, FAILED, T0 + 201),
        attemptRecord(x.claims[1]!, DONE, T0 + 202),
        attemptRecord(x.claims[2]!, FAILED, T0 + 203),
        // y: fails twice: failing since the first.
        attemptRecord(y.claims[1]!, FAILED, T0 + 204),
        // z: succeeds.
        attemptRecord(z.claims[0]!, DONE, T0 + 205),
      ]);
      assert.equal(await failingSince(x.ep), T0 + 203);
      assert.equal(await failingSince(y.ep), T0 + 201);
      assert.equal(await failingSince(z.ep), null);
    });

    it('keeps the first failure across batches, and a success clears it', async () => {
      const x = await endpointWithClaims(3);
      await store.recordAttempts([attemptRecord(x.claims[0]!, FAILED, T0 + 300)]);
      await store.recordAttempts([attemptRecord(x.claims[1]!, FAILED, T0 + 400)]);
      assert.equal(await failingSince(x.ep), T0 + 300, 'a later failure keeps the first');
      await store.recordAttempts([attemptRecord(x.claims[2]!, DONE, T0 + 500)]);
      assert.equal(await failingSince(x.ep), null);
    });

    it('ignores the attempt of a stale lease', async () => {
      const x = await endpointWithClaims(1);
      const stale = x.claims[0]!;
      // The lease expires and is claimed again: the first lease is stale.
      const [fresh] = await store.claimDue(x.ep.id, 1, T0 + 60_001, T0 + 120_000);
      assert.ok(fresh && fresh.leaseToken !== stale.leaseToken);
      await store.recordAttempts([attemptRecord(stale, FAILED, T0 + 60_002)]);
      assert.equal(await failingSince(x.ep), null, 'a stale attempt does not mark the endpoint failing');
      await store.recordAttempts([attemptRecord(fresh, FAILED, T0 + 60_003)]);
      assert.equal(await failingSince(x.ep), T0 + 60_003);
    });

    it('disables the endpoint for a current record asking it, never for a stale one', async () => {
      const x = await endpointWithClaims(1);
      const stale = x.claims[0]!;
      const [fresh] = await store.claimDue(x.ep.id, 1, T0 + 60_001, T0 + 120_000);
      assert.ok(fresh && fresh.leaseToken !== stale.leaseToken);
      const disabled = async (): Promise<boolean> => (await store.getEndpoint(x.ep.appId, x.ep.id))!.disabled;
      await store.recordAttempts([{ ...attemptRecord(stale, FAILED, T0 + 60_002), disableEndpoint: true }]);
      assert.equal(await disabled(), false, 'a stale lease cannot disable the endpoint');
      await store.recordAttempts([{ ...attemptRecord(fresh, FAILED, T0 + 60_003), disableEndpoint: true }]);
      assert.equal(await disabled(), true);
      assert.equal(await failingSince(x.ep), T0 + 60_003);
    });
  });
});

/**
 * The per-endpoint rate limit (`throttleRate`) gives the same claims over time on both
 * databases. PostgreSQL keeps the bucket in `endpoint_limits`, shared by every node, and its
 * capped claim takes the tokens (`cluster.claimDueCapped`); on a single-node store (SQLite) the
 * dispatcher keeps the bucket in memory (`TokenBucket`) and claims only what it allows. Both
 * use the token bucket maths of src/domain/token-bucket.ts; test/storage/token-bucket.test.ts
 * runs this on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket, throttleBurst } from '../../src/domain/token-bucket.js';
import type { Store } from '../../src/storage/contract/store.js';
import { T0, app, endpoint, message } from './fixtures.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** One claim: at `at` ms after the start, asking for up to `want` deliveries. */
interface Step {
  at: number;
  want: number;
}

/** How many deliveries each step claims, and (when held back by the limit) when to try again. */
interface Outcome {
  claimed: number;
  retryInMs: number | null;
}

/** Claims the steps' deliveries of `endpointId` within a rate limit of `rate` a second, as the store's database does it. */
async function claimWithinRate(store: Store, endpointId: string, rate: number, steps: Step[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const cluster = store.cluster;
  // The single-node dispatcher makes the bucket when it first claims for the endpoint.
  const bucket = new TokenBucket(rate, throttleBurst(rate), T0 + (steps[0]?.at ?? 0));
  for (const { at, want } of steps) {
    const now = T0 + at;
    const leaseUntil = now + 600_000;
    if (cluster) {
      const r = await cluster.claimDueCapped(endpointId, want, now, leaseUntil, 1000);
      out.push({ claimed: r.claims.length, retryInMs: r.retryInMs });
      continue;
    }
    const allowed = Math.min(want, bucket.available(now));
    const claims = allowed > 0 ? await store.claimDue(endpointId, allowed, now, leaseUntil) : [];
    bucket.take(claims.length, now);
    out.push({ claimed: claims.length, retryInMs: claims.length < want ? bucket.msUntilToken(now) : null });
  }
  return out;
}

/** Runs the contract against stores made by `make`. */
export function tokenBucketContract(name: string, make: () => Promise<TestStore>): void {
  describe(`endpoint rate limit contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('starts with a burst of a twentieth of a second of tokens (at least one) and refills at the rate', async () => {
      const a = app();
      await store.createApplication(a);
      // 40 a second: a token every 25 ms, a burst of 2.
      const ep = endpoint(a.id, { throttleRate: 40 });
      await store.createEndpoint(ep);
      const msgs = Array.from({ length: 30 }, (_, i) => message(a.id, T0 - 1000 + i));
      await store.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const at = [0, 0, 10, 25, 50, 60, 100, 200, 1000, 1000, 1010];
      const outcome = await claimWithinRate(store, ep.id, 40, at.map((t) => ({ at: t, want: 10 })));
      assert.deepEqual(
        outcome.map((o) => o.claimed),
        [2, 0, 0, 1, 1, 0, 2, 2, 2, 0, 0],
      );
      assert.deepEqual(
        outcome.filter((o) => o.claimed === 0).map((o) => o.retryInMs),
        [25, 15, 15, 25, 15],
        'held back: the next token is due in (1 - tokens) / rate',
      );
    });

    it('holds one token for a rate under 20 a second', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id, { throttleRate: 2 });
      await store.createEndpoint(ep);
      const msgs = Array.from({ length: 8 }, (_, i) => message(a.id, T0 - 1000 + i));
      await store.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const outcome = await claimWithinRate(store, ep.id, 2, [0, 0, 500, 600, 5000].map((t) => ({ at: t, want: 10 })));
      assert.deepEqual(
        outcome.map((o) => o.claimed),
        [1, 0, 1, 0, 1],
      );
      assert.equal(outcome[1]!.retryInMs, 500);
      assert.equal(outcome[3]!.retryInMs, 400);
    });
  });
}

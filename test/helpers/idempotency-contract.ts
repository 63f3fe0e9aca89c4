/**
 * The idempotency storage contract: stored responses kept until they expire, and those a
 * publish stores in its own transaction.
 * Every Store implementation must pass it; test/storage/idempotency-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { T0, app, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** Runs the contract against stores made by `make`. */
export function idempotencyContract(name: string, make: () => Promise<TestStore>): void {
  describe(`idempotency contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('keeps idempotent responses until they expire', async () => {
      await store.putIdempotent('k1', { status: 202, body: '{"id":1}', contentType: 'application/json' }, T0 + 100, T0);
      assert.deepEqual(await store.getIdempotent('k1', T0), { status: 202, body: '{"id":1}', contentType: 'application/json' });
      assert.equal(await store.getIdempotent('k1', T0 + 100), null);
    });

    it('reads many keys at once, in the order asked, null where none is fresh', async () => {
      const res = (n: number) => ({ status: 200 + n, body: `{"n":${n}}`, contentType: 'application/json' });
      await store.putIdempotentBatch([
        { key: 'many-1', response: res(1), expiresAt: T0 + 1000 },
        { key: 'many-2', response: res(2), expiresAt: T0 + 1000 },
        { key: 'many-old', response: res(3), expiresAt: T0 + 10 },
      ]);
      assert.deepEqual(await store.getIdempotentBatch(['many-2', 'many-none', 'many-old', 'many-1', 'many-2'], T0 + 50), [res(2), null, null, res(1), res(2)]);
      assert.deepEqual(await store.getIdempotentBatch([], T0), []);
      assert.deepEqual(await store.getIdempotent('many-1', T0 + 50), res(1), 'the single read agrees');
    });

    it('stores a publish\'s response with its message, and none for a duplicate eventId', async () => {
      const a = app();
      await store.createApplication(a);
      const answer = (id: string) => ({ status: 202, body: `{"id":"${id}"}`, contentType: 'application/json; charset=utf-8' });
      const m1 = message(a.id, T0, { eventId: 'evt-k' });
      const m2 = message(a.id, T0, { eventId: 'evt-k' });
      const m3 = message(a.id, T0);
      const results = await store.publish([
        { message: m1, deliveries: [], idempotent: { key: 'pk1', response: answer(m1.id), expiresAt: T0 + 1000 } },
        // Refused as a duplicate: its key is left free.
        { message: m2, deliveries: [], idempotent: { key: 'pk2', response: answer(m2.id), expiresAt: T0 + 1000 } },
        { message: m3, deliveries: [] },
      ]);
      assert.deepEqual(
        results.map((r) => r.kind),
        ['created', 'duplicate-event-id', 'created'],
      );
      assert.deepEqual(await store.getIdempotent('pk1', T0), answer(m1.id));
      assert.equal(await store.getIdempotent('pk2', T0), null);
      assert.equal(await store.getIdempotent('pk1', T0 + 1000), null, 'expired');
    });

    it('keeps a fresh response already under the key, and replaces an expired one', async () => {
      const a = app();
      await store.createApplication(a);
      const first = { status: 202, body: '{"first":true}', contentType: 'application/json' };
      await store.putIdempotent('fresh', first, T0 + 1000, T0);
      await store.putIdempotent('stale', first, T0 + 10, T0);
      const later = { status: 202, body: '{"later":true}', contentType: 'application/json' };
      const [r1, r2] = await store.publish([
        { message: message(a.id, T0 + 50), deliveries: [], idempotent: { key: 'fresh', response: later, expiresAt: T0 + 2000 } },
        { message: message(a.id, T0 + 50), deliveries: [], idempotent: { key: 'stale', response: later, expiresAt: T0 + 2000 } },
      ]);
      assert.equal(r1!.kind, 'created', 'the message is stored all the same (as two requests with one key on two nodes would)');
      assert.equal(r2!.kind, 'created');
      assert.deepEqual(await store.getIdempotent('fresh', T0 + 50), first);
      assert.deepEqual(await store.getIdempotent('stale', T0 + 50), later);
      assert.deepEqual(await store.getIdempotent('stale', T0 + 1500), later, 'with its own expiry');
    });

    it('stores a batch of responses in one call, the last of a key winning', async () => {
      const res = (n: number) => ({ status: 201, body: `{"n":${n}}`, contentType: 'application/json' });
      await store.putIdempotent('b-old', res(0), T0 + 1000, T0);
      await store.putIdempotentBatch([
        { key: 'b-1', response: res(1), expiresAt: T0 + 1000 },
        { key: 'b-old', response: res(2), expiresAt: T0 + 1000 },
        { key: 'b-1', response: res(3), expiresAt: T0 + 2000 },
      ]);
      await store.putIdempotentBatch([]);
      assert.deepEqual(await store.getIdempotent('b-1', T0 + 1500), res(3));
      assert.deepEqual(await store.getIdempotent('b-old', T0), res(2), 'replaced');
    });

    it('drops expired responses, at most a batch at a time', async () => {
      const res = { status: 200, body: '{}', contentType: 'application/json' };
      // Earlier than every entry the tests above left.
      const past = T0 - 10_000;
      for (let i = 0; i < 5; i++) await store.putIdempotent(`old-${i}`, res, past + 10 + i, past);
      await store.putIdempotent('young', res, past + 1000, past);
      assert.equal(await store.dropExpiredIdempotent(past + 100, 3), 3);
      assert.equal(await store.dropExpiredIdempotent(past + 100, 3), 2);
      assert.equal(await store.dropExpiredIdempotent(past + 100, 3), 0);
      assert.deepEqual(await store.getIdempotent('young', past + 100), res);
    });
  });
}

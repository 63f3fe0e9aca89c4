/**
 * The idempotency storage contract: stored responses kept until they expire.
 * Every Store implementation must pass it; test/storage/idempotency-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { T0 } from './fixtures.js';
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
  });
}

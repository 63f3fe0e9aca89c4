/**
 * The integrations storage contract: keys found by hash and read back opened, paging per
 * application, key replacement, deletion with the application.
 * test/storage/integrations.test.ts runs it on SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { SecretBox } from '../../src/security/crypto.js';
import type { IntegrationRecord } from '../../src/storage/contract/integrations.js';
import type { Store } from '../../src/storage/contract/store.js';
import { T0, app } from './fixtures.js';
import { rawRows } from './raw-db.js';
import { useMigratedStore } from './stores.js';
import type { StoreFactory } from './stores.js';

function integration(appId: string, over: Partial<IntegrationRecord> = {}): IntegrationRecord {
  const n = Math.random().toString(36).slice(2);
  return { id: newId('integration', T0), appId, name: 'i', featureFlags: null, keyHash: 'hash-' + n, key: 'sbint_' + n, createdAt: T0, updatedAt: T0, ...over };
}

/** Runs the contract against stores made by `make`, sealing secrets with a key of the suite's own. */
export function integrationsContract(name: string, make: StoreFactory): void {
  describe(`integrations contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(() => make(new SecretBox([randomBytes(32)])), (s) => (store = s));

    it('keeps an integration, finds it by key hash within its application only, and seals the key at rest', async () => {
      const a = app();
      await store.createApplication(a);
      const i = integration(a.id, { featureFlags: ['beta'] });
      await store.integrations.create(i);
      assert.deepEqual(await store.integrations.get(a.id, i.id), i);
      assert.equal(await store.integrations.get('app_other', i.id), null);
      assert.deepEqual(await store.integrations.byKeyHash(i.keyHash), i);
      assert.equal(await store.integrations.byKeyHash('nothing'), null);
      const [row] = await rawRows(store, 'SELECT sealed_key FROM integrations WHERE id = ?', i.id);
      assert.match(String(row?.sealed_key), /^sbenc:v1:/);
      assert.ok(!String(row?.sealed_key).includes(i.key));
    });

    it('seals a key written in plaintext (before encryption was on) when secrets are re-sealed', async () => {
      const a = app();
      await store.createApplication(a);
      const i = integration(a.id);
      await store.integrations.create(i);
      await rawRows(store, 'UPDATE integrations SET sealed_key = ? WHERE id = ?', i.key, i.id);
      await store.auth.rewrapSecrets();
      const [row] = await rawRows(store, 'SELECT sealed_key FROM integrations WHERE id = ?', i.id);
      assert.match(String(row?.sealed_key), /^sbenc:v1:/);
      assert.equal((await store.integrations.get(a.id, i.id))?.key, i.key);
    });

    it('updates name and flags, replaces the key so the old hash no longer matches', async () => {
      const a = app();
      await store.createApplication(a);
      const i = integration(a.id);
      await store.integrations.create(i);
      await store.integrations.update({ ...i, name: 'renamed', featureFlags: ['x', 'y'], updatedAt: T0 + 1 });
      const got = await store.integrations.get(a.id, i.id);
      assert.equal(got?.name, 'renamed');
      assert.deepEqual(got?.featureFlags, ['x', 'y']);
      assert.equal(await store.integrations.replaceKey(a.id, i.id, 'sbint_new', 'hash-new', T0 + 2), true);
      assert.equal(await store.integrations.byKeyHash(i.keyHash), null);
      const after = await store.integrations.byKeyHash('hash-new');
      assert.equal(after?.key, 'sbint_new');
      assert.equal(after?.updatedAt, T0 + 2);
      assert.equal(await store.integrations.replaceKey('app_other', i.id, 'k', 'h', T0), false);
    });

    it('pages per application, deletes one, and deleting the application deletes the rest', async () => {
      const a = app();
      const b = app();
      await store.createApplication(a);
      await store.createApplication(b);
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) {
        const i = integration(a.id, { id: newId('integration', T0 + n) });
        ids.push(i.id);
        await store.integrations.create(i);
      }
      await store.integrations.create(integration(b.id));
      const first = await store.integrations.list(a.id, { limit: 3 });
      assert.deepEqual(first.data.map((i) => i.id), ids.slice(0, 3));
      assert.equal(first.done, false);
      const second = await store.integrations.list(a.id, { limit: 3, iterator: first.iterator ?? undefined });
      assert.deepEqual(second.data.map((i) => i.id), ids.slice(3));
      assert.equal(second.done, true);
      assert.equal(await store.integrations.delete(a.id, ids[0]!), true);
      assert.equal(await store.integrations.delete(a.id, ids[0]!), false);
      await store.deleteApplication(a.id);
      assert.equal((await store.integrations.list(a.id, { limit: 10 })).data.length, 0);
      assert.equal((await store.integrations.list(b.id, { limit: 10 })).data.length, 1);
    });
  });
}

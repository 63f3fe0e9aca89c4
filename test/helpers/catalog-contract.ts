/**
 * The catalog storage contract: applications, endpoints (and what claims hand out of them), paging.
 * Every Store implementation must pass it; test/storage/catalog-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import { T0, app, endpoint, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** Runs the contract against stores made by `make`. */
export function catalogContract(name: string, make: () => Promise<TestStore>): void {
  describe(`catalog contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('keeps applications, finds them by id or uid, refuses a duplicate uid', async () => {
      const a = app({ uid: 'contract-app' });
      await store.createApplication(a);
      assert.equal((await store.getApplication(a.id))?.name, 'a');
      assert.equal((await store.getApplication('contract-app'))?.id, a.id);
      await assert.rejects(store.createApplication(app({ uid: 'contract-app' })), (e: unknown) => e instanceof AppError && e.status === 409);
      await store.updateApplication({ ...a, name: 'b', metadata: { k: 'v' } });
      assert.deepEqual((await store.getApplication(a.id))?.metadata, { k: 'v' });
      await store.deleteApplication(a.id);
      assert.equal(await store.getApplication(a.id), null);
    });

    it('pages with iterators in both orders', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const a = app({ id: newId('application', T0 + i), name: `p${i}` });
        ids.push(a.id);
        await store.createApplication(a);
      }
      const seen: string[] = [];
      let iterator: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const p = await store.listApplications({ limit: 3, iterator });
        seen.push(...p.data.map((a) => a.id).filter((id) => ids.includes(id)));
        if (p.done) break;
        iterator = p.iterator ?? undefined;
      }
      assert.deepEqual(seen, ids);
      const desc = await store.listApplications({ limit: 2, order: 'descending' });
      assert.ok(desc.data[0]!.id > desc.data[1]!.id);
      const back = await store.listApplications({ limit: 2, iterator: '-' + ids[4] });
      assert.deepEqual(back.data.map((a) => a.id), [ids[2], ids[3]]);
    });

    it('keeps an endpoint\'s content filter and transformation, and hands them to claims', async () => {
      const a = app();
      await store.createApplication(a);
      const filter = { 'payload.total': { $gt: 10 }, $or: [{ 'headers.x-kind': 'a' }, { eventType: 'e.t' }] };
      const transformation = { code: 'function handler(w) { return w }', enabled: true, variables: { k: 'v' }, updatedAt: T0 };
      const ep = endpoint(a.id, { filter, transformation });
      await store.createEndpoint(ep);
      assert.deepEqual((await store.getEndpoint(a.id, ep.id))?.filter, filter);
      assert.deepEqual((await store.allEndpoints(a.id))[0]?.transformation, transformation);
      await store.updateEndpoint({ ...ep, filter: null, transformation: { ...transformation, enabled: false }, updatedAt: T0 + 1 });
      const back = await store.getEndpoint(a.id, ep.id);
      assert.equal(back?.filter, null);
      assert.equal(back?.transformation?.enabled, false);
      await store.publish([{ message: message(a.id, T0), deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      const [c] = await store.claimDue(ep.id, 1, T0 + 1, T0 + 60_000);
      assert.deepEqual(c?.endpoint.transformation, { ...transformation, enabled: false });
      const plain = endpoint(a.id);
      await store.createEndpoint(plain);
      assert.equal((await store.getEndpoint(a.id, plain.id))?.transformation ?? null, null);
    });
  });
}

/** The operational webhook store contract (`Store.operationalWebhooks`): test/storage/operational-webhook-store.test.ts runs it on SQLite and PostgreSQL. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import type { OperationalEndpoint } from '../../src/storage/contract/operational-webhooks.js';
import type { Store } from '../../src/storage/contract/store.js';

/** The operational webhook store contract: every Store implementation must pass it. */
export function operationalStoreContract(name: string, factory: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`operational webhook store contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    const T0 = 1_700_000_000_000;
    const make = (over: Partial<OperationalEndpoint> = {}): OperationalEndpoint => ({
      id: newId('endpoint', T0),
      uid: null,
      url: 'https://ops.example/hook',
      description: '',
      disabled: false,
      eventTypes: null,
      throttleRate: null,
      metadata: {},
      headers: {},
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      createdAt: T0,
      updatedAt: T0,
      ...over,
    });

    before(async () => {
      ({ store, dispose } = await factory());
      await store.migrate();
    });
    after(async () => dispose());

    it('creates, reads by id or uid, updates, lists and deletes', async () => {
      const s = store.operationalWebhooks;
      const a = make({ uid: 'a', eventTypes: ['endpoint.disabled'], metadata: { k: 'v' }, headers: { 'X-A': '1' }, throttleRate: 5 });
      const b = make({ id: newId('endpoint', T0 + 1) });
      await s.create(a);
      await s.create(b);
      assert.deepEqual(await s.get(a.id), a);
      assert.deepEqual(await s.get('a'), a);
      assert.equal(await s.get('missing'), null);
      await assert.rejects(s.create(make({ id: newId('endpoint', T0 + 2), uid: 'a' })), (e: unknown) => (e as { status?: number }).status === 409);
      const changed = { ...a, disabled: true, eventTypes: null, secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', updatedAt: T0 + 5 };
      await s.update(changed);
      assert.deepEqual(await s.get(a.id), changed);
      assert.deepEqual((await s.all()).map((e) => e.id).sort(), [a.id, b.id].sort());
      const p1 = await s.list({ limit: 1 });
      assert.equal(p1.data.length, 1);
      assert.equal(p1.done, false);
      const p2 = await s.list({ limit: 1, iterator: p1.iterator! });
      assert.equal(p2.data.length, 1);
      assert.notEqual(p2.data[0]!.id, p1.data[0]!.id);
      await s.delete(a.id);
      assert.equal(await s.get(a.id), null);
      assert.equal((await s.all()).length, 1);
    });
  });
}

/**
 * The connectors storage contract: lookup by id or uid, a taken uid refused, paging with
 * the product filter, and environment imports written all together or not at all.
 * test/storage/connectors.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import type { EventType } from '../../src/domain/model.js';
import type { ConnectorRecord } from '../../src/storage/contract/connectors.js';
import type { Store } from '../../src/storage/contract/store.js';
import { T0 } from './fixtures.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

function connector(over: Partial<ConnectorRecord> = {}): ConnectorRecord {
  return {
    id: newId('connector', T0),
    uid: null,
    name: 'c',
    description: '',
    instructions: '',
    kind: 'Custom',
    logo: null,
    productType: 'Dispatch',
    transformation: 'function handler(w) { return w }',
    featureFlags: null,
    allowedEventTypes: null,
    createdAt: T0,
    updatedAt: T0,
    transformationUpdatedAt: T0,
    ...over,
  };
}

function eventType(name: string, over: Partial<EventType> = {}): EventType {
  return { name, description: 'd', archived: false, deprecated: false, featureFlag: null, schemas: null, createdAt: T0, updatedAt: T0, ...over };
}

const isConflict = (e: unknown): boolean => e instanceof AppError && e.status === 409;

export function connectorsContract(name: string, make: () => Promise<TestStore>): void {
  describe(`connectors contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    it('keeps a connector with every field, finds it by id or uid, refuses a taken uid', async () => {
      const c = connector({ uid: 'slack-tpl', kind: 'Slack', logo: 'https://x/logo.png', featureFlags: ['f'], allowedEventTypes: ['a.b'], description: 'D', instructions: 'I' });
      await store.connectors.create(c);
      assert.deepEqual(await store.connectors.get(c.id), c);
      assert.deepEqual(await store.connectors.get('slack-tpl'), c);
      assert.equal(await store.connectors.get('nothing'), null);
      await assert.rejects(store.connectors.create(connector({ uid: 'slack-tpl' })), isConflict);
      const other = connector({ uid: 'other' });
      await store.connectors.create(other);
      await assert.rejects(store.connectors.update({ ...other, uid: 'slack-tpl' }), isConflict);
      await store.connectors.update({ ...c, name: 'renamed', productType: 'Stream', updatedAt: T0 + 5 });
      assert.equal((await store.connectors.get(c.id))?.name, 'renamed');
      assert.equal(await store.connectors.delete(c.id), true);
      assert.equal(await store.connectors.delete(c.id), false);
      await store.connectors.delete(other.id);
    });

    it('pages, filtered by product type', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 4; n++) {
        const c = connector({ id: newId('connector', T0 + 100 + n), productType: n % 2 === 0 ? 'Dispatch' : 'Stream' });
        ids.push(c.id);
        await store.connectors.create(c);
      }
      const p1 = await store.connectors.list({ limit: 3 });
      assert.deepEqual(p1.data.map((c) => c.id), ids.slice(0, 3));
      const p2 = await store.connectors.list({ limit: 3, iterator: p1.iterator ?? undefined });
      assert.deepEqual(p2.data.map((c) => c.id), ids.slice(3));
      assert.equal(p2.done, true);
      const streams = await store.connectors.list({ limit: 10, productType: 'Stream' });
      assert.deepEqual(streams.data.map((c) => c.id), [ids[1], ids[3]]);
      assert.deepEqual((await store.connectors.all()).map((c) => c.id), ids);
      for (const id of ids) await store.connectors.delete(id);
    });

    it('writes an environment import in one transaction: all of it, or nothing when a part fails', async () => {
      await store.createEventType(eventType('env.existing'));
      const kept = connector({ uid: 'env-kept' });
      await store.connectors.create(kept);
      await store.connectors.applyEnvironment({
        createEventTypes: [eventType('env.new', { schemas: { '1': { type: 'object' } } })],
        updateEventTypes: [eventType('env.existing', { description: 'changed', deprecated: true, updatedAt: T0 + 1 })],
        createConnectors: [connector({ uid: 'env-new' })],
        updateConnectors: [{ ...kept, name: 'changed' }],
      });
      assert.deepEqual((await store.getEventType('env.new'))?.schemas, { '1': { type: 'object' } });
      assert.equal((await store.getEventType('env.existing'))?.description, 'changed');
      assert.equal((await store.connectors.get('env-new'))?.uid, 'env-new');
      assert.equal((await store.connectors.get('env-kept'))?.name, 'changed');

      // The second connector takes a uid already used: nothing of this write may stay.
      await assert.rejects(
        store.connectors.applyEnvironment({
          createEventTypes: [eventType('env.rolled-back')],
          updateEventTypes: [eventType('env.existing', { description: 'rolled back' })],
          createConnectors: [connector({ uid: 'env-fresh' }), connector({ uid: 'env-new' })],
          updateConnectors: [],
        }),
        isConflict,
      );
      assert.equal(await store.getEventType('env.rolled-back'), null);
      assert.equal((await store.getEventType('env.existing'))?.description, 'changed');
      assert.equal(await store.connectors.get('env-fresh'), null);
    });
  });
}

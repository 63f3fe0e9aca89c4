/** The background task store (`Store.backgroundTasks`) on SQLite and PostgreSQL. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import type { BackgroundTask } from '../../src/storage/contract/background-tasks.js';
import type { Store } from '../../src/storage/contract/store.js';
import { onBothDatabases, useMigratedStore } from '../helpers/stores.js';

const T0 = 1_700_000_000_000;
const make = (i: number, over: Partial<BackgroundTask> = {}): BackgroundTask => ({
  id: newId('task', T0 + i),
  task: 'endpoint.recover',
  status: 'running',
  appId: 'app_x',
  params: { appId: 'app_x', endpointId: 'ep_x', since: T0, until: null },
  data: {},
  createdAt: T0 + i,
  updatedAt: T0 + i,
  ...over,
});

onBothDatabases((name, factory) => {
  describe(`background task store: ${name}`, () => {
    let store: Store;
    useMigratedStore(factory, (s) => (store = s));

    it('stores a running task and reads it back by id, params and all', async () => {
      const t = make(1);
      await store.backgroundTasks.create(t);
      assert.deepEqual(await store.backgroundTasks.get(t.id), t);
      assert.equal(await store.backgroundTasks.get(newId('task', T0)), null);
    });

    it('finishes a running task once; a second end changes nothing', async () => {
      const t = make(2);
      await store.backgroundTasks.create(t);
      assert.equal(await store.backgroundTasks.finish(t.id, 'finished', { recovered: 3 }, T0 + 10), true);
      assert.equal(await store.backgroundTasks.finish(t.id, 'failed', { error: 'late' }, T0 + 20), false);
      const got = await store.backgroundTasks.get(t.id);
      assert.equal(got?.status, 'finished');
      assert.deepEqual(got?.data, { recovered: 3 });
      assert.equal(got?.updatedAt, T0 + 10);
      assert.equal(await store.backgroundTasks.finish(newId('task', T0), 'finished', {}, T0), false, 'an unknown id');
    });

    it('lists newest first, filters by status and kind, and pages', async () => {
      const a = make(3, { task: 'endpoint.replay' });
      const b = make(4, { task: 'application.purge_content', appId: null });
      await store.backgroundTasks.create(a);
      await store.backgroundTasks.create(b);
      await store.backgroundTasks.finish(b.id, 'failed', { error: 'x' }, T0 + 30);
      const all = await store.backgroundTasks.list({ limit: 50 });
      assert.deepEqual(all.data.map((t) => t.id).slice(0, 2), [b.id, a.id]);
      assert.deepEqual((await store.backgroundTasks.list({ limit: 50, status: 'failed' })).data.map((t) => t.id), [b.id]);
      assert.deepEqual((await store.backgroundTasks.list({ limit: 50, task: 'endpoint.replay' })).data.map((t) => t.id), [a.id]);
      assert.deepEqual((await store.backgroundTasks.list({ limit: 50, task: 'endpoint.replay', status: 'finished' })).data, []);
      const p1 = await store.backgroundTasks.list({ limit: 2 });
      assert.equal(p1.done, false);
      const p2 = await store.backgroundTasks.list({ limit: 2, iterator: p1.iterator! });
      const ids = [...p1.data, ...p2.data].map((t) => t.id);
      assert.equal(new Set(ids).size, ids.length, 'pages do not overlap');
      const asc = await store.backgroundTasks.list({ limit: 50, order: 'ascending' });
      assert.deepEqual(asc.data.map((t) => t.id), [...all.data.map((t) => t.id)].reverse());
    });

    it('lists the tasks still running, oldest first', async () => {
      const running = (await store.backgroundTasks.running()).map((t) => t.id);
      const listed = (await store.backgroundTasks.list({ limit: 50, status: 'running', order: 'ascending' })).data.map((t) => t.id);
      assert.deepEqual(running, listed);
      assert.ok(running.length >= 2);
    });
  });
});

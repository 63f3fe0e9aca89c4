/**
 * The background task store (`Store.backgroundTasks`) on SQLite and PostgreSQL: tasks by id
 * and listed; ended once, by their owner only; progress and lease written by the owner only;
 * tasks whose lease ran out (or every running one, for a store only this node uses) taken
 * over atomically, each by one claimer, even when claimers race.
 */
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
  checkpoint: null,
  owner: 'node-a',
  leaseUntil: T0 + 30_000,
  createdAt: T0 + i,
  updatedAt: T0 + i,
  ...over,
});

onBothDatabases((name, factory) => {
  describe(`background task store: ${name}`, () => {
    let store: Store;
    useMigratedStore(factory, (s) => (store = s));

    it('stores a running task and reads it back by id, params, owner, lease and checkpoint', async () => {
      const t = make(1);
      await store.backgroundTasks.create(t);
      assert.deepEqual(await store.backgroundTasks.get(t.id), t);
      const other = make(100, { owner: null, leaseUntil: null, checkpoint: { after: 'msg_x', done: 5 } });
      await store.backgroundTasks.create(other);
      assert.deepEqual(await store.backgroundTasks.get(other.id), other);
      assert.equal(await store.backgroundTasks.get(newId('task', T0)), null);
    });

    it('finishes a running task once, by its owner only; a second end changes nothing', async () => {
      const t = make(2);
      await store.backgroundTasks.create(t);
      assert.equal(await store.backgroundTasks.finish(t.id, 'node-b', 'finished', { recovered: 9 }, T0 + 5), false, 'not the owner');
      assert.equal(await store.backgroundTasks.finish(t.id, 'node-a', 'finished', { recovered: 3 }, T0 + 10), true);
      assert.equal(await store.backgroundTasks.finish(t.id, 'node-a', 'failed', { error: 'late' }, T0 + 20), false);
      const got = await store.backgroundTasks.get(t.id);
      assert.equal(got?.status, 'finished');
      assert.deepEqual(got?.data, { recovered: 3 });
      assert.equal(got?.updatedAt, T0 + 10);
      assert.equal(got?.leaseUntil, null, 'an ended task holds no lease');
      assert.equal(await store.backgroundTasks.finish(newId('task', T0), 'node-a', 'finished', {}, T0), false, 'an unknown id');
    });

    it('renews the lease of the owner only; progress moves data, checkpoint and updatedAt, a bare renewal only the lease', async () => {
      const t = make(5);
      await store.backgroundTasks.create(t);
      assert.equal(await store.backgroundTasks.renew(t.id, 'node-a', T0 + 60_000, T0 + 50), true);
      let got = await store.backgroundTasks.get(t.id);
      assert.deepEqual([got?.leaseUntil, got?.updatedAt, got?.data, got?.checkpoint], [T0 + 60_000, t.updatedAt, {}, null]);
      const progress = { data: { replayed: 7, progress: { done: 8, total: null } }, checkpoint: { after: 'msg_8', done: 8, counted: 7 } };
      assert.equal(await store.backgroundTasks.renew(t.id, 'node-a', T0 + 70_000, T0 + 60, progress), true);
      got = await store.backgroundTasks.get(t.id);
      assert.deepEqual([got?.leaseUntil, got?.updatedAt, got?.data, got?.checkpoint, got?.status], [T0 + 70_000, T0 + 60, progress.data, progress.checkpoint, 'running']);
      assert.equal(await store.backgroundTasks.renew(t.id, 'node-b', T0 + 90_000, T0 + 70, progress), false, 'not the owner');
      assert.equal((await store.backgroundTasks.get(t.id))?.leaseUntil, T0 + 70_000);
      await store.backgroundTasks.finish(t.id, 'node-a', 'finished', { replayed: 9 }, T0 + 80);
      assert.equal(await store.backgroundTasks.renew(t.id, 'node-a', T0 + 90_000, T0 + 90, progress), false, 'an ended task');
      assert.deepEqual((await store.backgroundTasks.get(t.id))?.data, { replayed: 9 }, 'a late progress does not overwrite the result');
    });

    it('lists newest first, filters by status and kind, and pages', async () => {
      const a = make(3, { task: 'endpoint.replay' });
      const b = make(4, { task: 'application.purge_content', appId: null });
      await store.backgroundTasks.create(a);
      await store.backgroundTasks.create(b);
      await store.backgroundTasks.finish(b.id, 'node-a', 'failed', { error: 'x' }, T0 + 30);
      const all = await store.backgroundTasks.list({ limit: 50 });
      assert.deepEqual(all.data.map((t) => t.id).filter((id) => id === a.id || id === b.id), [b.id, a.id]);
      assert.deepEqual(all.data.map((t) => t.id), [...all.data.map((t) => t.id)].sort().reverse(), 'newest first');
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

    it('takes over running tasks whose lease ran out or that have none, oldest first; never live, ended or already taken ones', async () => {
      const now = T0 + 1_000_000;
      const live = make(10, { leaseUntil: now + 1 });
      const expired = make(11, { leaseUntil: now - 1, checkpoint: { after: 'msg_1', done: 1 } });
      const unleased = make(12, { owner: null, leaseUntil: null });
      const ended = make(13, { leaseUntil: now - 1 });
      for (const t of [live, unleased, expired, ended]) await store.backgroundTasks.create(t);
      await store.backgroundTasks.finish(ended.id, 'node-a', 'finished', {}, T0);
      const taken = await store.backgroundTasks.claim('node-b', now + 30_000, now);
      const mine = taken.filter((t) => [live.id, expired.id, unleased.id, ended.id].includes(t.id));
      assert.deepEqual(mine.map((t) => t.id), [expired.id, unleased.id], 'the expired and the unleased, oldest first');
      assert.deepEqual(mine[0], { ...expired, owner: 'node-b', leaseUntil: now + 30_000 }, 'with its checkpoint, for the new owner');
      assert.equal(await store.backgroundTasks.renew(expired.id, 'node-a', now + 60_000, now), false, 'the old owner lost it');
      assert.equal(await store.backgroundTasks.finish(expired.id, 'node-a', 'finished', {}, now), false);
      assert.deepEqual(await store.backgroundTasks.claim('node-c', now + 30_000, now), [], 'taken ones hold a live lease now');
      assert.equal((await store.backgroundTasks.get(live.id))?.owner, 'node-a');
      // A store only this node uses: every running task was left by a previous run.
      const all = (await store.backgroundTasks.claim('node-d', now + 40_000, now, { all: true })).map((t) => t.id);
      for (const id of [live.id, expired.id, unleased.id]) assert.ok(all.includes(id), `${id} taken with all`);
      assert.ok(!all.includes(ended.id));
      assert.deepEqual(all, [...all].sort(), 'oldest first');
      for (const id of all) await store.backgroundTasks.finish(id, 'node-d', 'finished', {}, now);
    });

    it('gives each expired task to one claimer when claims race', async () => {
      const now = T0 + 2_000_000;
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const t = make(200 + i, { leaseUntil: now - 1 });
        ids.push(t.id);
        await store.backgroundTasks.create(t);
      }
      const claims = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((owner) => store.backgroundTasks.claim(owner, now + 30_000, now)));
      const taken = claims.flat().map((t) => t.id);
      assert.deepEqual([...taken].sort(), ids, 'every one taken, none twice');
      for (const [i, c] of claims.entries()) for (const t of c) assert.equal((await store.backgroundTasks.get(t.id))?.owner, `n${i + 1}`);
    });
  });
});

/**
 * Background tasks shared by two nodes on one PostgreSQL database (two stores, two task
 * services, each on its own clock): a task whose owner is alive and renewing its lease is
 * never taken by the other node, however long it runs; once the owner stops renewing (it
 * died), the other node takes it over, continues from its checkpoint and ends it once; the
 * old owner, back, finds it taken and stops without writing. Two nodes starting at once
 * share the tasks left by a dead node: each is run by one of them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundTaskService } from '../../src/bridges/push/background-tasks.js';
import type { TaskRunner } from '../../src/bridges/push/background-tasks.js';
import { newId } from '../../src/domain/ids.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

const LEASE = 3000;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A task log that keeps what it is told. */
function memoryLog(): { warnings: string[]; errors: string[]; error(o: object, m: string): void; warn(o: object, m: string): void } {
  const log = { warnings: [] as string[], errors: [] as string[], error: (_o: object, m: string) => void log.errors.push(m), warn: (_o: object, m: string) => void log.warnings.push(m) };
  return log;
}

describe('background tasks across two nodes on PostgreSQL', { skip: skipWithoutPostgres }, () => {
  let schema: TestSchema;
  let storeA: PostgresStore;
  let storeB: PostgresStore;
  const services: BackgroundTaskService[] = [];

  before(async () => {
    schema = await createTestSchema('sbtaskown');
    storeA = schema.store(3);
    storeB = schema.store(3);
    await storeA.migrate();
  });
  after(async () => {
    for (const s of services) await s.stop();
    await schema?.drop();
  });

  function node(store: PostgresStore, clock: FakeClock, owner: string, log = memoryLog()): BackgroundTaskService {
    const s = new BackgroundTaskService(store.backgroundTasks, clock, log, { owner, leaseMs: LEASE, shared: true });
    services.push(s);
    return s;
  }

  it('keeps a live owner’s task with it; takes it over once the owner stops renewing, from its checkpoint, ended once', async () => {
    const T = Date.now();
    const clockA = new FakeClock(T);
    const clockB = new FakeClock(T);
    const logA = memoryLog();
    const a = node(storeA, clockA, 'node-a', logA);
    const b = node(storeB, clockB, 'node-b');
    const runs: string[] = [];
    const ends: string[] = [];
    const held = { reached: deferred(), go: deferred() };
    // Ten items, progress after each; on node A it waits at the sixth until the test lets it go on.
    const runner =
      (name: string): TaskRunner =>
      async (_p, ctx) => {
        let done = typeof ctx.task.checkpoint?.done === 'number' ? ctx.task.checkpoint.done : 0;
        runs.push(`${name} from ${done}`);
        while (done < 10) {
          if (name === 'a' && done === 5) {
            held.reached.resolve();
            // Until the test lets it go on, or the node stops.
            await Promise.race([held.go.promise, new Promise((r) => ctx.signal.addEventListener('abort', r))]);
            ctx.signal.throwIfAborted();
          }
          done++;
          ctx.progress(done, 10, { items: done }, { done });
        }
        return { items: done };
      };
    a.define('application.stats', runner('a'));
    b.define('application.stats', runner('b'));
    a.onFinished = () => void ends.push('a');
    b.onFinished = () => void ends.push('b');
    await a.resumeInterrupted();
    const t = await a.start('application.stats', null, {});
    await held.reached.promise;
    const stored = () => storeA.backgroundTasks.get(t.id);

    // Node B starts while A runs it, then both live through twice the lease: A renews, B takes nothing.
    assert.equal(await b.resumeInterrupted(), 0);
    for (let i = 0; i < 2 * (LEASE / 1000); i++) {
      clockA.advance(1000);
      await eventually(async () => (await stored())?.leaseUntil === clockA.now() + LEASE, 'node A to renew its lease');
      clockB.advance(1000);
      assert.equal(await b.resumeInterrupted(), 0, 'the task of a live owner is not taken');
      assert.equal((await stored())?.owner, 'node-a');
    }
    const before = await stored();
    assert.deepEqual(before?.data, { items: 5, progress: { done: 5, total: 10 } }, 'the owner wrote its progress');
    assert.deepEqual(before?.checkpoint, { done: 5 });

    // Node A dies (its clock stops, it renews no more): once its lease has run out, B's sweep takes the task over.
    clockB.advance(LEASE + 1000);
    const done = await eventually(async () => {
      const x = await stored();
      return x?.status === 'finished' ? x : null;
    }, 'node B to take the task over and end it');
    assert.equal(done.owner, 'node-b');
    assert.deepEqual(done.data, { items: 10 });
    assert.deepEqual(runs, ['a from 0', 'b from 5'], 'B continued from the checkpoint A recorded');
    assert.deepEqual(ends, ['b']);

    // A comes back: it finds the task taken, stops it without writing, and ends nothing.
    clockA.advance(1000);
    await eventually(() => logA.warnings.some((w) => /taken over by another node/.test(w)), 'node A to see the task taken');
    held.go.resolve();
    await eventually(() => a.runningCount === 0, 'node A to stop the task');
    assert.deepEqual(ends, ['b'], 'ended once');
    assert.deepEqual((await stored())?.data, { items: 10 }, 'A wrote nothing over the result');
    assert.deepEqual(logA.errors, []);
  });

  it('gives each task of a dead node to one of two nodes starting at once', async () => {
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = newId('task', now + i);
      ids.push(id);
      await storeA.backgroundTasks.create({
        id,
        task: 'event-type.aggregate',
        status: 'running',
        appId: null,
        params: {},
        data: {},
        checkpoint: null,
        owner: 'dead-node',
        leaseUntil: now - 1,
        createdAt: now + i,
        updatedAt: now + i,
      });
    }
    const ran: string[] = [];
    const runner: TaskRunner = async (_p, ctx) => {
      ran.push(ctx.task.id);
      return {};
    };
    const c = node(storeA, new FakeClock(now), 'node-c');
    const d = node(storeB, new FakeClock(now), 'node-d');
    c.define('event-type.aggregate', runner);
    d.define('event-type.aggregate', runner);
    const [byC, byD] = await Promise.all([c.resumeInterrupted(), d.resumeInterrupted()]);
    assert.equal(byC + byD, ids.length);
    await eventually(async () => (await Promise.all(ids.map((id) => storeA.backgroundTasks.get(id)))).every((x) => x?.status === 'finished'), 'every task to end');
    assert.deepEqual([...ran].sort(), ids, 'each run once');
  });
});

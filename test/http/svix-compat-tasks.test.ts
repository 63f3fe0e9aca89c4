/**
 * Background tasks through the official `svix` SDK against a real server: recover and
 * replay-missing answer a running task whose id `backgroundTask.get` finds, which ends
 * finished with its result; the listing filters and pages; organisation admins only; the
 * `background_task.finished` operational webhook; a running task's progress grows, written
 * once per second of the server's clock and not per message; and a task left running by a
 * node that is gone is taken over on the next start on the same database (or failed visibly
 * when it cannot run).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BackgroundTaskStatus, BackgroundTaskType, Ordering, Svix } from 'svix';
import { loadConfig } from '../../src/config.js';
import { createSwitchboard } from '../../src/composition/server.js';
import type { Switchboard } from '../../src/composition/server.js';
import { newId } from '../../src/domain/ids.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createTestSchema } from '../helpers/pg.js';
import { Receiver } from '../helpers/receiver.js';
import { createKey } from '../helpers/security.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, sdkClient } from '../helpers/svix-sdk.js';


describe('background tasks with the svix SDK', () => {
  let server: TestServer;
  let rx: Receiver;
  let svix: Svix;
  let appId: string;
  let failing = true;

  before(async () => {
    rx = await new Receiver().start();
    // One quick retry, so deliveries fail for good fast.
    server = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '0.05' });
    svix = sdkClient(server.url, server.token);
    appId = (await svix.application.create({ name: 'Tasks' })).id;
    rx.on('/flaky', (_r, res) => void res.writeHead(failing ? 500 : 200).end(failing ? 'down' : 'ok'));
    rx.on('/ok', (_r, res) => void res.writeHead(200).end());
    rx.on('/ops', (_r, res) => void res.writeHead(200).end());
  });
  after(async () => {
    await server?.close();
    await rx?.close();
  });

  const finished = (id: string) =>
    eventually(async () => {
      const t = await svix.backgroundTask.get(id);
      return t.status === BackgroundTaskStatus.Running ? null : t;
    }, `task ${id} to end`);

  it('recover answers a running task that ends finished with the number recovered, and sends the deliveries again', async () => {
    await svix.operationalWebhookEndpoint.create({ url: rx.url('/ops'), filterTypes: ['background_task.finished'] });
    const since = new Date(Date.now() - 1000);
    const ep = await svix.endpoint.create(appId, { url: rx.url('/flaky') });
    const m1 = await svix.message.create(appId, { eventType: 'invoice.paid', payload: { n: 1 } });
    const m2 = await svix.message.create(appId, { eventType: 'invoice.paid', payload: { n: 2 } });
    await eventually(async () => {
      const s = await svix.endpoint.getStats(appId, ep.id);
      return s.fail === 2 && s.pending === 0 && s.sending === 0;
    }, 'both deliveries failed for good');

    failing = false;
    const started = await svix.endpoint.recover(appId, ep.id, { since });
    assert.match(started.id, /^qtask_[0-9A-Za-z]{27}$/);
    assert.equal(started.task, BackgroundTaskType.EndpointRecover);
    assert.equal(started.status, BackgroundTaskStatus.Running, 'the task runs after the answer');
    const done = await finished(started.id);
    assert.equal(done.status, BackgroundTaskStatus.Finished);
    assert.equal(done.task, BackgroundTaskType.EndpointRecover);
    assert.deepEqual(done.data, { recovered: 2 });
    assert.ok(done.updatedAt.getTime() >= started.updatedAt.getTime());
    await eventually(() => [m1.id, m2.id].every((id) => rx.at('/flaky').filter((r) => r.headers['webhook-id'] === id).length === 3), 'recovered deliveries');

    // The operator hears of it.
    const event = await eventually(() => {
      const r = rx.at('/ops').map((x) => JSON.parse(x.body)).find((e) => e.data?.taskId === started.id);
      return r ?? null;
    }, 'the background_task.finished event');
    assert.equal(event.type, 'background_task.finished');
    assert.deepEqual(event.data, { taskId: started.id, task: 'endpoint.recover', status: 'finished', data: { recovered: 2 } });
  });

  it('replay-missing sends messages the endpoint never got, once, through a task', async () => {
    const m = await svix.message.create(appId, { eventType: 'invoice.paid', payload: { n: 3 } });
    const late = await svix.endpoint.create(appId, { url: rx.url('/ok') });
    const since = new Date(m.timestamp.getTime() - 1);
    const t = await svix.endpoint.replayMissing(appId, late.id, { since });
    assert.equal(t.status, BackgroundTaskStatus.Running);
    assert.equal(t.task, BackgroundTaskType.EndpointReplay);
    const done = await finished(t.id);
    assert.equal(done.status, BackgroundTaskStatus.Finished);
    assert.deepEqual(done.data, { replayed: 1 });
    await eventually(() => rx.at('/ok').some((r) => r.headers['webhook-id'] === m.id), 'the replayed message');
    const again = await finished((await svix.endpoint.replayMissing(appId, late.id, { since })).id);
    assert.deepEqual(again.data, { replayed: 0 }, 'a second replay adds nothing');
  });

  it('refuses what cannot start with a clear 4xx, not a task', async () => {
    await assert.rejects(svix.endpoint.recover(appId, newId('endpoint'), { since: new Date() }), apiError(404));
    const off = await svix.endpoint.create(appId, { url: rx.url('/ok'), disabled: true });
    await assert.rejects(svix.endpoint.replayMissing(appId, off.id, { since: new Date() }), apiError(409));
    await assert.rejects(svix.backgroundTask.get(newId('task')), apiError(404));
    const r = await server.api('POST', `/api/v1/app/${appId}/endpoint/${off.id}/recover`, { since: 'yesterday' });
    assert.equal(r.status, 422);
  });

  it('lists tasks newest first, filtered by status and kind, paged both ways', async () => {
    const all = await svix.backgroundTask.list();
    assert.ok(all.data.length >= 3);
    const times = all.data.map((t) => t.id);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    const recovers = await svix.backgroundTask.list({ task: BackgroundTaskType.EndpointRecover });
    assert.ok(recovers.data.length === 1 && recovers.data[0]!.task === BackgroundTaskType.EndpointRecover);
    const replays = await svix.backgroundTask.list({ task: BackgroundTaskType.EndpointReplay, status: BackgroundTaskStatus.Finished });
    assert.equal(replays.data.length, 2);
    assert.equal((await svix.backgroundTask.list({ status: BackgroundTaskStatus.Failed })).data.length, 0);
    assert.equal((await svix.backgroundTask.list({ task: BackgroundTaskType.SdkGenerate })).data.length, 0);
    const p1 = await svix.backgroundTask.list({ limit: 2 });
    assert.equal(p1.done, false);
    const p2 = await svix.backgroundTask.list({ limit: 2, iterator: p1.iterator });
    assert.deepEqual([...p1.data, ...p2.data].map((t) => t.id), times.slice(0, p1.data.length + p2.data.length));
    const asc = await svix.backgroundTask.list({ order: Ordering.Ascending });
    assert.deepEqual(asc.data.map((t) => t.id), [...times].reverse());
    const bad = await server.api('GET', '/api/v1/background-task?status=sleeping');
    assert.equal(bad.status, 422);
  });

  it('is for organisation admins: an application key gets 403', async () => {
    const key = (await createKey(server, ['read', 'write'], appId)).key;
    const scoped = sdkClient(server.url, key);
    await assert.rejects(scoped.backgroundTask.list(), apiError(403));
    const any = (await svix.backgroundTask.list()).data[0]!.id;
    await assert.rejects(scoped.backgroundTask.get(any), apiError(403));
  });
});

/** A promise and its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('background task progress with the svix SDK', () => {
  let server: TestServer;
  let rx: Receiver;
  let svix: Svix;
  let clock: FakeClock;

  before(async () => {
    rx = await new Receiver().start();
    rx.on('/p', (_r, res) => void res.writeHead(200).end());
    // The server's clock moves only when the test moves it: progress is written once per second of it.
    clock = new FakeClock();
    server = await startServer({}, { clock });
    svix = sdkClient(server.url, server.token);
  });
  after(async () => {
    await server?.close();
    await rx?.close();
  });

  it('a running bulk replay shows its progress growing through backgroundTask.get, written once a second, not per message', async () => {
    const app = await svix.application.create({ name: 'Progress' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url('/p') });
    const N = 30;
    for (let i = 0; i < N; i++) await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { i } });

    // The replay waits before its 10th and its 25th message until the test lets it go on.
    const store = server.sb.store;
    const resend = store.resend.bind(store);
    const holds = new Map([10, 25].map((n) => [n, { reached: deferred(), go: deferred() }]));
    let resends = 0;
    store.resend = async (...args) => {
      const hold = holds.get(++resends);
      if (hold) {
        hold.reached.resolve();
        await hold.go.promise;
      }
      return resend(...args);
    };
    const renew = store.backgroundTasks.renew.bind(store.backgroundTasks);
    let progressWrites = 0;
    store.backgroundTasks.renew = async (...args) => {
      if (args[4]) progressWrites++;
      return renew(...args);
    };
    const progressOf = (id: string, done: number) =>
      eventually(async () => {
        const t = await svix.backgroundTask.get(id);
        return (t.data.progress as { done: number } | undefined)?.done === done ? t : null;
      }, `task ${id} to show ${done} done`);

    try {
      const started = await svix.endpoint.bulkReplay(app.id, ep.id, { since: new Date(clock.now() - 1000) });
      await holds.get(10)!.reached.promise;
      const first = await svix.backgroundTask.get(started.id);
      assert.equal(first.status, BackgroundTaskStatus.Running);
      assert.deepEqual(first.data, { progress: { done: 0, total: null } }, 'nothing written before a second has passed');

      clock.advance(1000);
      const at9 = await progressOf(started.id, 9);
      assert.equal(at9.status, BackgroundTaskStatus.Running);
      assert.deepEqual(at9.data, { replayed: 9, progress: { done: 9, total: null } });
      const listed = (await svix.backgroundTask.list({ status: BackgroundTaskStatus.Running })).data.find((t) => t.id === started.id);
      assert.deepEqual(listed?.data, at9.data, 'the listing shows the same progress');

      holds.get(10)!.go.resolve();
      await holds.get(25)!.reached.promise;
      clock.advance(1000);
      const at24 = await progressOf(started.id, 24);
      assert.deepEqual(at24.data, { replayed: 24, progress: { done: 24, total: null } });
      assert.ok(at24.updatedAt.getTime() > at9.updatedAt.getTime(), 'updatedAt moves with the progress');

      holds.get(25)!.go.resolve();
      const done = await eventually(async () => {
        const t = await svix.backgroundTask.get(started.id);
        return t.status === BackgroundTaskStatus.Running ? null : t;
      }, 'the replay to end');
      assert.equal(done.status, BackgroundTaskStatus.Finished);
      assert.deepEqual(done.data, { replayed: N }, 'the result has no progress');
      assert.equal(progressWrites, 2, `progress written once per second passed, not per message (${progressWrites} writes for ${N} messages)`);
    } finally {
      for (const h of holds.values()) h.go.resolve();
    }
  });
});

describe('background tasks across a restart', () => {
  let dataDir: string;
  let dbUrl: string | null = null;
  let dropSchema: (() => Promise<void>) | null = null;
  let sb: Switchboard | null = null;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-tasks-'));
    if (process.env.SWITCHBOARD_TEST_STORE === 'postgres') {
      const s = await createTestSchema('sbtasks');
      dbUrl = s.url;
      dropSchema = () => s.drop();
    }
  });
  after(async () => {
    await sb?.close();
    await dropSchema?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A server on the same data directory (and database) every time. */
  async function open(): Promise<{ sb: Switchboard; svix: Svix }> {
    const config = loadConfig({
      SWITCHBOARD_PORT: '0',
      SWITCHBOARD_HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: 'sb_restart_admin_token',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_DURABILITY: 'normal',
      SWITCHBOARD_SHUTDOWN_GRACE_MS: '200',
      ...(dbUrl ? { SWITCHBOARD_DATABASE_URL: dbUrl } : {}),
    });
    sb = await createSwitchboard(config, { logger: pino({ level: 'silent' }) });
    const url = await sb.listen();
    return { sb, svix: sdkClient(url, 'sb_restart_admin_token') };
  }

  it('runs again a task left running, fails visibly one that cannot run, and keeps finished ones', async () => {
    const first = await open();
    const app = await first.svix.application.create({ name: 'Restart' });
    const ep = await first.svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/never' });
    const done = await first.svix.endpoint.replayMissing(app.id, ep.id, { since: new Date(Date.now() - 1000) });
    await eventually(async () => (await first.svix.backgroundTask.get(done.id)).status !== BackgroundTaskStatus.Running, 'the first task to end');
    // As after a crash: two tasks still marked running, one runnable and one whose input is lost.
    const now = Date.now();
    // Left by a node that is gone: its lease ran out.
    const interrupted = {
      id: newId('task', now),
      task: 'endpoint.replay' as const,
      status: 'running' as const,
      appId: app.id,
      params: { appId: app.id, endpointId: ep.id, since: now - 1000, until: null },
      data: {},
      checkpoint: null,
      owner: 'gone-node',
      leaseUntil: now - 1,
      createdAt: now,
      updatedAt: now,
    };
    const broken = { ...interrupted, id: newId('task', now + 1), task: 'endpoint.recover' as const, params: {} };
    await first.sb.store.backgroundTasks.create(interrupted);
    await first.sb.store.backgroundTasks.create(broken);
    await first.sb.close();
    sb = null;

    const second = await open();
    const resumed = await eventually(async () => {
      const t = await second.svix.backgroundTask.get(interrupted.id);
      return t.status === BackgroundTaskStatus.Running ? null : t;
    }, 'the interrupted task to be run again');
    assert.equal(resumed.status, BackgroundTaskStatus.Finished);
    assert.deepEqual(resumed.data, { replayed: 0 });
    const failed = await eventually(async () => {
      const t = await second.svix.backgroundTask.get(broken.id);
      return t.status === BackgroundTaskStatus.Running ? null : t;
    }, 'the task that cannot run to fail');
    assert.equal(failed.status, BackgroundTaskStatus.Failed);
    assert.match(String(failed.data.error), /missing/);
    const kept = await second.svix.backgroundTask.get(done.id);
    assert.equal(kept.status, BackgroundTaskStatus.Finished);
    assert.deepEqual(kept.data, { replayed: 0 });
    assert.equal((await second.svix.backgroundTask.list({ status: BackgroundTaskStatus.Running })).data.length, 0);
  });
});

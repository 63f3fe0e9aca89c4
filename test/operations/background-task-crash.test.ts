/**
 * A background task across kill -9: a server process runs a bulk replay of six hundred
 * messages to a real receiver (each resend paced, as over a large store), is killed with
 * SIGKILL in the middle of it, and a new server starts on the same data (SQLite file, or
 * PostgreSQL schema with SWITCHBOARD_TEST_STORE=postgres, where the task is taken over once
 * the dead node's lease has run out). The task is not lost: it ends `finished` with every
 * message replayed, and it continues from its recorded checkpoint rather than from the
 * start: the messages it had replayed (and the receiver had got) before the recorded
 * progress are not sent again, beyond the few deliveries in flight at the kill.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { eventually } from '../helpers/eventually.js';
import { createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { callServer, freePort, startServerProcess } from '../helpers/process.js';
import type { ServerProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

const TOKEN = 'sb_task_crash_test_token';
const N = 600;
/** Requests in flight to the endpoint at once: the most the kill can leave unrecorded, to be sent again. */
const CONCURRENCY = 4;
const PACED = pathToFileURL(fileURLToPath(new URL('./paced-resend.js', import.meta.url))).href;

describe('a background task killed with SIGKILL mid-run', { timeout: 300_000 }, () => {
  let rx: Receiver;
  let dataDir: string;
  let schema: TestSchema | null = null;
  let child: ServerProcess | undefined;

  before(async () => {
    rx = await new Receiver().start();
    rx.on('/replay', (_r, res) => void res.writeHead(200).end());
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-task-crash-'));
    if (process.env.SWITCHBOARD_TEST_STORE === 'postgres') schema = await createTestSchema('sbtaskcrash');
  });
  after(async () => {
    await child?.stop('SIGKILL');
    await rx?.close();
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (port: number, extra: Record<string, string> = {}) =>
    startServerProcess({
      port,
      env: {
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_ADMIN_TOKEN: TOKEN,
        SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
        SWITCHBOARD_DURABILITY: 'normal',
        SWITCHBOARD_LOG_LEVEL: 'warn',
        SWITCHBOARD_ENDPOINT_CONCURRENCY: String(CONCURRENCY),
        // A dead node's tasks are taken over after 2 s, its deliveries in flight after 5 s.
        SWITCHBOARD_LEASE_GRACE_MS: '2000',
        SWITCHBOARD_REQUEST_TIMEOUT_MS: '3000',
        ...(schema ? { SWITCHBOARD_DATABASE_URL: schema.url } : {}),
        ...extra,
      },
    });

  it('ends finished after a restart, continuing from its checkpoint: nothing it had recorded is replayed twice', async (t) => {
    const port = await freePort();
    child = await start(port, { NODE_OPTIONS: `--import=${PACED}`, TEST_RESEND_PACE_MS: '8' });
    const call = (method: string, path: string, body?: unknown) => callServer(child!.base, TOKEN, method, path, body);
    const t0 = Date.now();
    const mark = (what: string) => t.diagnostic(`${what}: ${Date.now() - t0} ms`);

    const app = (await call('POST', '/api/v1/app', { name: 'Task crash' })).body.id as string;
    const ep = (await call('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/replay') })).body.id as string;
    const since = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const i = next++;
          const r = await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'order.paid', payload: { i } });
          assert.equal(r.status, 202, JSON.stringify(r.body));
          ids.push(r.body.id as string);
        }
      }),
    );
    // The bulk replay goes through the messages in id order.
    ids.sort();
    const receipts = () => {
      const n = new Map<string, number>();
      for (const r of rx.at('/replay')) n.set(r.headers['webhook-id'] as string, (n.get(r.headers['webhook-id'] as string) ?? 0) + 1);
      return n;
    };
    mark('published');
    await eventually(() => receipts().size === N, 'every message delivered once');
    mark('delivered');

    const started = await call('POST', `/api/v1/app/${app}/endpoint/${ep}/bulk-replay`, { since });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const taskId = started.body.id as string;
    const task = async () => (await callServer(child!.base, TOKEN, 'GET', `/api/v1/background-task/${taskId}`)).body;

    // Killed once its progress is recorded and the receiver has had those replays.
    const recorded = await eventually(async () => {
      const x = await task();
      return x.status === 'running' && x.data.progress?.done >= 100 ? (x.data.progress.done as number) : null;
    }, 'the replay to record progress');
    await eventually(() => {
      const n = receipts();
      return ids.slice(0, recorded).every((id) => (n.get(id) ?? 0) >= 2);
    }, 'the replays recorded so far to reach the receiver');
    const last = await task();
    assert.equal(last.status, 'running', 'still running at the kill');
    await child.stop('SIGKILL');
    child = undefined;
    t.diagnostic(`killed at ${last.data.progress.done} of ${N} replayed (recorded and checked: ${recorded})`);

    mark('killed');
    child = await start(port);
    mark('restarted');
    const done = await eventually(async () => {
      const x = await task();
      return x.status === 'running' ? null : x;
    }, 'the task to end after the restart');
    mark('ended');
    assert.equal(done.status, 'finished', JSON.stringify(done.data));
    assert.deepEqual(done.data, { replayed: N });
    assert.match(child.output(), new RegExp(`taken over[^\\n]*${taskId}|${taskId}[^\\n]*taken over`), 'the new server took the task over');

    // Every message replayed at least once; those before the recorded checkpoint once only
    // (beyond requests in flight at the kill, which the at-least-once delivery sends again).
    await eventually(async () => {
      const s = (await call('GET', `/api/v1/app/${app}/endpoint/${ep}/stats`)).body;
      return s.pending === 0 && s.sending === 0 && ids.every((id) => (receipts().get(id) ?? 0) >= 2);
    }, 'every replay delivered');
    mark('all delivered');
    const n = receipts();
    const twice = ids.slice(0, recorded).filter((id) => (n.get(id) ?? 0) > 2);
    assert.ok(twice.length <= CONCURRENCY, `replayed again after the restart though recorded before the kill: ${twice.length}`);
    const again = ids.filter((id) => (n.get(id) ?? 0) > 2).length;
    t.diagnostic(`messages replayed twice in all: ${again} (the work between the last record and the kill, and requests in flight)`);
    await child.stop();
    child = undefined;
  });
});

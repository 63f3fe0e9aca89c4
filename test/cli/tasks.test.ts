/**
 * `switchboard tasks list` and `switchboard tasks get`, run as a real process against a real
 * server: tasks started through the API are listed with their kind, status, progress and
 * result, filtered by status and kind, shown one by one, as tables and as JSON; a running
 * task shows how far it is; bad input is a usage error and an unknown task is not found.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundTaskStatus, Svix } from 'svix';
import { EXIT } from '../../src/cli/exit-codes.js';
import { newId } from '../../src/domain/ids.js';
import { eventually } from '../helpers/eventually.js';
import { runCli } from '../helpers/process.js';
import type { CliRun } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/svix-sdk.js';

describe('switchboard tasks', () => {
  let server: TestServer;
  let rx: Receiver;
  let svix: Svix;
  let recoverId: string;
  let purgeId: string;
  let runningId: string;

  function cli(args: string[]): Promise<CliRun> {
    const env = { PATH: process.env.PATH ?? '', HOME: server.dataDir, SWITCHBOARD_SERVER_URL: server.url, SWITCHBOARD_TOKEN: server.token };
    return runCli(args, env, { timeoutMs: 120_000 });
  }
  const ok = async (args: string[]): Promise<string> => {
    const r = await cli(args);
    assert.equal(r.code, 0, `switchboard ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    svix = sdkClient(server.url, server.token);
    const since = new Date(Date.now() - 1000);
    const app = await svix.application.create({ name: 'Tasks' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url('/hook') });
    const msg = await svix.message.create(app.id, { eventType: 'order.paid', payload: { n: 1 } });
    await attemptsOf(server, app.id, msg.id);
    recoverId = (await svix.endpoint.recover(app.id, ep.id, { since })).id;
    purgeId = (await svix.message.expungeAllContents(app.id)).id;
    for (const id of [recoverId, purgeId]) {
      await eventually(async () => (await svix.backgroundTask.get(id)).status !== BackgroundTaskStatus.Running, `task ${id} to end`);
    }
    // A bulk replay another node is running, a third of the way through.
    const now = Date.now();
    runningId = newId('task', now);
    await server.sb.store.backgroundTasks.create({
      id: runningId,
      task: 'endpoint.bulk-replay',
      status: 'running',
      appId: app.id,
      params: { appId: app.id, endpointId: ep.id, since: now - 1000, until: null },
      data: { replayed: 9, progress: { done: 10, total: 30 } },
      checkpoint: null,
      owner: 'another-node',
      leaseUntil: now + 3600_000,
      createdAt: now,
      updatedAt: now,
    });
  });
  after(async () => {
    await server?.close();
    await rx?.close();
  });

  it('lists tasks with kind, status and result, newest first', async () => {
    const out = await ok(['tasks', 'list']);
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+KIND\s+STATUS\s+PROGRESS\s+UPDATED\s+RESULT$/);
    assert.match(lines[1]!, new RegExp(`^${runningId}\\s+endpoint\\.bulk-replay\\s+running\\s+10 of 30 \\(33%\\)\\s+\\S+$`));
    assert.match(lines[2]!, new RegExp(`^${purgeId}\\s+application\\.purge_content\\s+finished\\s+done\\s+\\S+\\s+\\{"expunged":1\\}$`));
    assert.match(lines[3]!, new RegExp(`^${recoverId}\\s+endpoint\\.recover\\s+finished\\s+done\\s+\\S+\\s+\\{"recovered":0\\}$`));
  });

  it('filters by kind and status', async () => {
    const recovers = JSON.parse(await ok(['tasks', 'list', '--task', 'endpoint.recover', '--json']));
    assert.deepEqual(recovers.map((t: { id: string }) => t.id), [recoverId]);
    assert.equal((await ok(['tasks', 'list', '--status', 'failed'])).trim(), '(none)');
    const finished = JSON.parse(await ok(['task', 'list', '--status', 'finished', '--json']));
    assert.deepEqual(finished.map((t: { id: string }) => t.id).sort(), [recoverId, purgeId].sort());
  });

  it('shows one task, as text and JSON', async () => {
    const out = await ok(['tasks', 'get', purgeId]);
    assert.match(out, new RegExp(`^id:\\s+${purgeId}$`, 'm'));
    assert.match(out, /^kind:\s+application\.purge_content$/m);
    assert.match(out, /^status:\s+finished$/m);
    assert.match(out, /^result:\s+\{"expunged":1\}$/m);
    const t = JSON.parse(await ok(['tasks', 'get', recoverId, '--json']));
    assert.deepEqual([t.id, t.task, t.status, t.data], [recoverId, 'endpoint.recover', 'finished', { recovered: 0 }]);
  });

  it('shows how far a running task is', async () => {
    const out = await ok(['tasks', 'get', runningId]);
    assert.match(out, /^status:\s+running$/m);
    assert.match(out, /^progress:\s+10 of 30 \(33%\)$/m);
    assert.match(out, /^so far:\s+\{"replayed":9\}$/m);
    assert.doesNotMatch(out, /^result:/m);
    const t = JSON.parse(await ok(['tasks', 'get', runningId, '--json']));
    assert.deepEqual(t.data, { replayed: 9, progress: { done: 10, total: 30 } });
    const running = await ok(['tasks', 'list', '--status', 'running']);
    assert.match(running, new RegExp(`^${runningId}\\s+endpoint\\.bulk-replay\\s+running\\s+10 of 30 \\(33%\\)`, 'm'));
  });

  it('refuses an unknown status or kind, and says when a task does not exist', async () => {
    const badStatus = await cli(['tasks', 'list', '--status', 'done']);
    assert.equal(badStatus.code, EXIT.usage);
    assert.match(badStatus.stderr, /running, finished, failed/);
    const badKind = await cli(['tasks', 'list', '--task', 'nope']);
    assert.equal(badKind.code, EXIT.usage);
    const missing = await cli(['tasks', 'get', 'qtask_nope']);
    assert.equal(missing.code, EXIT.notFound);
    assert.match(missing.stderr, /not found/i);
  });
});

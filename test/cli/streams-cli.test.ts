/**
 * `switchboard streams ...` run as a real process against a real in-process server: streams,
 * sinks of each kind (credentials masked in the output), enable/disable, attempts, replay,
 * sending events and reading them back through a poller sink, and the errors people hit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exit-codes.js';
import { eventually } from '../helpers/eventually.js';
import { MAIN, runCli } from '../helpers/process.js';
import type { CliRun } from '../helpers/process.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('switchboard streams', () => {
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  const cli = (args: string[]): Promise<CliRun> => runCli(args, env, { timeoutMs: 60_000 });
  const ok = async (args: string[]): Promise<string> => {
    const r = await cli(args);
    assert.equal(r.code, 0, `switchboard ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]): Promise<any> => JSON.parse(await ok([...args, '--json']));

  before(async () => {
    server = await startServer();
    home = mkdtempSync(join(tmpdir(), 'switchboard-streams-cli-'));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      SWITCHBOARD_CLI_CONFIG: join(home, '.switchboard', 'config.json'),
      SWITCHBOARD_SERVER_URL: server.url,
      SWITCHBOARD_TOKEN: server.token,
    };
  });
  after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('creates, lists, shows and deletes streams', async () => {
    const id = (await ok(['streams', 'create', '--name', 'Orders', '--uid', 'orders-cli'])).trim();
    assert.match(id, /^strm_|^\S+$/);
    assert.match(await ok(['streams', 'list']), /orders-cli\s+Orders/);
    const s = await json(['streams', 'get', 'orders-cli']);
    assert.equal(s.id, id);
    assert.equal(s.name, 'Orders');
    const gone = (await ok(['streams', 'create', '--name', 'Temp'])).trim();
    assert.equal(await ok(['streams', 'delete', gone]), `deleted ${gone}\n`);
    const r = await cli(['streams', 'get', gone]);
    assert.equal(r.code, EXIT.notFound);
    assert.match(r.stderr, /404/);
  });

  it('creates sinks of each type, shows them with credentials masked, and disables and enables them', async () => {
    await ok(['streams', 'create', '--name', 'Sinks', '--uid', 'sinks-cli']);
    const rabbit = (
      await ok([
        'streams', 'sinks', 'create', 'sinks-cli', '--type', 'rabbitMq',
        '--config', '{"uri":"amqp://guest:s3cret@127.0.0.1:5672","routingKey":"orders"}',
        '--batch-size', '10', '--max-wait', '2', '--event-types', 'order.created,order.paid',
      ])
    ).trim();
    const redis = (await ok(['streams', 'sinks', 'create', 'sinks-cli', '--type', 'redis', '--config', '{"uri":"redis://:pw@127.0.0.1:6379","streamKey":"orders"}'])).trim();
    await ok(['streams', 'sinks', 'create', 'sinks-cli', '--type', 'poller']);

    const listed = await ok(['streams', 'sinks', 'list', 'sinks-cli']);
    assert.match(listed, /TYPE/);
    assert.match(listed, new RegExp(`${rabbit}\\s+rabbitMq\\s+amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:5672 orders\\s+enabled\\s+10/2s`));
    assert.match(listed, new RegExp(`${redis}\\s+redis\\s+redis://:\\*\\*\\*@127\\.0\\.0\\.1:6379 orders`));
    assert.match(listed, /poller/);
    assert.doesNotMatch(listed, /s3cret|:pw@/);

    const shown = await ok(['streams', 'sinks', 'get', 'sinks-cli', rabbit]);
    assert.match(shown, /type:\s+rabbitMq/);
    assert.match(shown, /eventTypes:\s+order\.created,order\.paid/);
    assert.doesNotMatch(shown, /s3cret/);
    const redisJson = await json(['streams', 'sinks', 'get', 'sinks-cli', redis]);
    assert.equal(redisJson.type, 'http', 'extension sinks look like http to SDKs');
    assert.equal(redisJson.extension.type, 'redis');

    assert.equal(await ok(['streams', 'sinks', 'disable', 'sinks-cli', rabbit]), `${rabbit}  disabled\n`);
    assert.equal((await json(['streams', 'sinks', 'get', 'sinks-cli', rabbit])).status, 'disabled');
    assert.equal(await ok(['streams', 'sinks', 'enable', 'sinks-cli', rabbit]), `${rabbit}  enabled\n`);

    assert.equal(await ok(['streams', 'sinks', 'attempts', 'sinks-cli', rabbit]), '(none)\n');
    assert.deepEqual(await json(['streams', 'sinks', 'attempts', 'sinks-cli', rabbit]), []);

    assert.equal(await ok(['streams', 'sinks', 'delete', 'sinks-cli', redis]), `deleted ${redis}\n`);
    assert.doesNotMatch(await ok(['streams', 'sinks', 'list', 'sinks-cli']), new RegExp(redis));
  });

  it('sends events and reads them through a poller sink, which reads on from where it left off, and replays from a time', async () => {
    await ok(['streams', 'create', '--name', 'Poll', '--uid', 'poll-cli']);
    const sink = (await ok(['streams', 'sinks', 'create', 'poll-cli', '--type', 'poller'])).trim();
    assert.equal(await ok(['streams', 'send', 'poll-cli', '--type', 'order.created', '--data', '{"id":1}']), 'sent\n');
    await ok(['streams', 'send', 'poll-cli', '--type', 'order.paid', '--data', '{"id":1,"total":5}']);

    const r = await cli(['streams', 'events', 'poll-cli', sink]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /order\.created\s+\{"id":1\}$/);
    assert.match(lines[1]!, /order\.paid\s+\{"id":1,"total":5\}$/);
    const iterator = /iterator: (\S+)/.exec(r.stderr)?.[1];
    assert.ok(iterator, r.stderr);

    const after = (await ok(['streams', 'events', 'poll-cli', sink, '--iterator', iterator, '--json'])).trim();
    assert.equal(after, '', 'nothing after the last iterator');
    assert.equal(await ok(['streams', 'events', 'poll-cli', sink, '--json']), '', 'the sink read on from where it left off');

    const replayed = await json(['streams', 'sinks', 'replay', 'poll-cli', sink, '--since', '1h']);
    assert.equal(typeof replayed.currentIterator, 'string');
    const again = (await ok(['streams', 'events', 'poll-cli', sink, '--json'])).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(again.map((e) => e.eventType), ['order.created', 'order.paid'], 'replayed from an hour ago');
    assert.match(await ok(['streams', 'sinks', 'replay', 'poll-cli', sink, '--iterator', iterator]), /moved back to iterator/);
  });

  it('follows a poller sink: events sent later are printed as they come', async () => {
    await ok(['streams', 'create', '--name', 'Follow', '--uid', 'follow-cli']);
    const sink = (await ok(['streams', 'sinks', 'create', 'follow-cli', '--type', 'poller'])).trim();
    const child = spawn(process.execPath, [MAIN, 'streams', 'events', 'follow-cli', sink, '--follow', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise((r) => child.on('close', r));
    try {
      await ok(['streams', 'send', 'follow-cli', '--type', 'a.first', '--data', '{"n":1}']);
      await eventually(() => out.includes('a.first'), 'the first event printed');
      await ok(['streams', 'send', 'follow-cli', '--type', 'a.second', '--data', '{"n":2}']);
      await eventually(() => out.includes('a.second'), 'the second event printed');
      assert.deepEqual(out.trim().split('\n').map((l) => JSON.parse(l).eventType), ['a.first', 'a.second']);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('refuses bad input with a reason and a non-zero exit', async () => {
    await ok(['streams', 'create', '--name', 'Bad', '--uid', 'bad-cli']);
    const badJson = await cli(['streams', 'sinks', 'create', 'bad-cli', '--type', 'rabbitMq', '--config', '{nope']);
    assert.equal(badJson.code, EXIT.usage);
    assert.match(badJson.stderr, /--config is not valid JSON/);

    const badType = await cli(['streams', 'sinks', 'create', 'bad-cli', '--type', 'kafka']);
    assert.notEqual(badType.code, 0);
    assert.match(badType.stderr, /422.*sink type 'kafka' is not supported/);

    const missing = await cli(['streams', 'sinks', 'create', 'bad-cli', '--type', 'rabbitMq', '--config', '{"uri":"amqp://127.0.0.1:5672"}']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /routingKey/);

    const sink = (await ok(['streams', 'sinks', 'create', 'bad-cli', '--type', 'poller'])).trim();
    const neither = await cli(['streams', 'sinks', 'replay', 'bad-cli', sink]);
    assert.equal(neither.code, EXIT.usage);
    assert.match(neither.stderr, /one of --since or --iterator/);
    const badTime = await cli(['streams', 'sinks', 'replay', 'bad-cli', sink, '--since', 'yesterday']);
    assert.equal(badTime.code, EXIT.usage);
    assert.match(badTime.stderr, /expected a date-time/);

    const badData = await cli(['streams', 'send', 'bad-cli', '--type', 'x', '--data', 'not json']);
    assert.equal(badData.code, EXIT.usage);
    assert.match(badData.stderr, /--data is not valid JSON/);
  });
});

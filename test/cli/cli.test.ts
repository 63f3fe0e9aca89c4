/**
 * The `switchboard` command line, run as a real process (`node dist/src/main.js ...`)
 * against a real in-process server: every resource, tables and `--json`, the config file,
 * bulk operations, signature verification, exit codes and `--help` everywhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { program } from '../../src/cli/index.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { eventually } from '../helpers/eventually.js';
import { runCli } from '../helpers/process.js';
import type { CliRun } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('switchboard CLI', () => {
  let server: TestServer;
  let rx: Receiver;
  let home: string;
  let env: Record<string, string>;
  const outputs: string[] = [];
  let failing = true;

  /** Runs the CLI; `extraEnv` replaces the defaults (server and token from the environment). */
  async function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliRun> {
    const r = await runCli(args, { ...env, ...opts.env }, { input: opts.input, timeoutMs: 180_000 });
    outputs.push(r.stdout, r.stderr);
    return r;
  }
  const ok = async (args: string[], opts?: { env?: Record<string, string | undefined>; input?: string }): Promise<string> => {
    const r = await cli(args, opts);
    assert.equal(r.code, 0, `switchboard ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]): Promise<any> => JSON.parse(await ok([...args, '--json']));

  before(async () => {
    rx = await new Receiver().start();
    rx.on('/flaky', (_r, res) => void res.writeHead(failing ? 500 : 200).end());
    // No circuit breakers: the failing endpoint's resends and recovery go out at once instead of
    // waiting for a probe (circuits have tests of their own).
    server = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '0', SWITCHBOARD_CIRCUIT_FAILURES: '0' });
    home = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
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
    await rx.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('has --help on every command, each with a description', async () => {
    const walk = (c: Command, path: string[]): void => {
      for (const sub of c.commands) {
        const where = [...path, sub.name()].join(' ');
        assert.ok(sub.description().length > 0, `${where} has a description`);
        assert.match(sub.helpInformation(), /Usage: /, `${where} --help`);
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(program(), []);
    assert.match(await ok(['--help']), /operational-webhook/);
    assert.match(await ok(['endpoint', 'recover', '--help']), /--since <time>/);
    assert.match(await ok(['help', 'event-type']), /import/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await cli(['app', 'lst']);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /unknown command/);
    assert.equal((await cli(['endpoint', 'create'])).code, EXIT.usage);
    assert.equal((await cli(['message', 'list', 'x', '--after', 'yesterday-ish'])).code, EXIT.usage);
  });

  it('logs in with a config file that later commands use', async () => {
    const noEnv = { SWITCHBOARD_SERVER_URL: undefined, SWITCHBOARD_TOKEN: undefined };
    const denied = await cli(['app', 'list'], { env: noEnv });
    assert.equal(denied.code, EXIT.auth);
    assert.match(denied.stderr, /switchboard login/);
    const bad = await cli(['login', '--server', server.url, '--token', 'sb_not_a_token'], { env: noEnv });
    assert.equal(bad.code, EXIT.auth);
    assert.match(await ok(['login', '--server', server.url, '--token', server.token], { env: noEnv }), /logged in/);
    const file = env.SWITCHBOARD_CLI_CONFIG!;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { server: server.url, token: server.token });
    assert.match(await ok(['app', 'list'], { env: noEnv }), /\(none\)|ID/);
    await ok(['logout'], { env: noEnv });
    assert.equal((await cli(['app', 'list'], { env: noEnv })).code, EXIT.auth);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { server: server.url });
  });

  it('manages applications, with tables and JSON', async () => {
    const id = (await ok(['app', 'create', '--name', 'CLI app', '--uid', 'cli-app', '--metadata', 'team=core'])).trim();
    assert.match(id, /^app_/);
    const table = await ok(['app', 'list']);
    assert.match(table.split('\n')[0]!, /^ID\s+UID\s+NAME/);
    assert.match(table, /cli-app\s+CLI app/);
    const list = await json(['app', 'list']);
    assert.equal(list.find((a: any) => a.id === id).metadata.team, 'core');
    assert.equal((await json(['app', 'update', 'cli-app', '--name', 'Renamed'])).name, 'Renamed');
    assert.match(await ok(['app', 'get', 'cli-app']), /name:\s+Renamed/);
    const dup = await cli(['app', 'create', '--name', 'x', '--uid', 'cli-app']);
    assert.equal(dup.code, EXIT.conflict);
    assert.match(dup.stderr, /409 conflict/);
    await ok(['app', 'create', '--name', 'temp', '--uid', 'cli-temp']);
    await ok(['app', 'delete', 'cli-temp']);
    assert.equal((await cli(['app', 'get', 'cli-temp'])).code, EXIT.notFound);
  });

  it('manages event types and imports them from an OpenAPI document with a progress bar', async () => {
    await ok(['event-type', 'create', 'order.created', '--description', 'An order was placed', '--schema', '{"type":"object"}']);
    assert.equal((await json(['event-type', 'get', 'order.created'])).schemas['1'].type, 'object');
    const doc = [
      'openapi: 3.1.0',
      'info: {title: shop, version: "1"}',
      'webhooks:',
      '  order.paid:',
      '    post:',
      '      summary: An order was paid',
      '      requestBody:',
      '        content:',
      '          application/json:',
      '            schema: {$ref: "#/components/schemas/Paid"}',
      '  OrderShipped:',
      '    post:',
      '      description: An order left the warehouse',
      '      deprecated: true',
      '      requestBody:',
      '        content:',
      '          application/json:',
      '            schema:',
      '              type: object',
      '              properties: {type: {type: string, enum: [order.shipped]}, id: {type: string}}',
      '  "bad name!":',
      '    post: {summary: x}',
      'components:',
      '  schemas:',
      '    Paid: {type: object, required: [id], properties: {id: {type: string}, amount: {type: integer}}}',
    ].join('\n');
    const file = join(home, 'shop.yaml');
    writeFileSync(file, doc);
    const dry = await cli(['event-type', 'import', file, '--dry-run']);
    assert.equal(dry.code, EXIT.invalid, 'one webhook cannot be imported');
    assert.match(dry.stdout, /order\.paid\s+would import/);
    assert.equal((await cli(['event-type', 'get', 'order.paid'])).code, EXIT.notFound);
    const r = await cli(['event-type', 'import', file]);
    assert.equal(r.code, EXIT.invalid);
    assert.match(r.stderr, /skipped bad name!: "bad name!" is not a valid event type name/);
    assert.match(r.stdout, /order\.paid\s+created/);
    assert.match(r.stdout, /order\.shipped\s+created/);
    const paid = await json(['event-type', 'get', 'order.paid']);
    assert.equal(paid.description, 'An order was paid');
    assert.deepEqual(paid.schemas['1'].required, ['id']);
    const shipped = await json(['event-type', 'get', 'order.shipped']);
    assert.equal(shipped.deprecated, true);
    assert.equal(shipped.description, 'An order left the warehouse');
    const again = await cli(['event-type', 'import', file, '--json']);
    assert.deepEqual(
      JSON.parse(again.stdout).imported.map((i: any) => i.result),
      ['updated', 'updated'],
    );
    assert.match(await ok(['event-type', 'list']), /order\.shipped/);
    await ok(['event-type', 'delete', 'order.shipped']);
    assert.doesNotMatch(await ok(['event-type', 'list']), /order\.shipped/);
    assert.match(await ok(['event-type', 'list', '--include-archived']), /order\.shipped/);
  });

  it('manages endpoints, sends messages, lists attempts and verifies a delivered signature', async () => {
    const ep = (await ok(['endpoint', 'create', 'cli-app', '--url', rx.url('/hook'), '--uid', 'hook', '--event-types', 'order.created,order.paid', '--header', 'x-team=core'])).trim();
    assert.match(ep, /^ep_/);
    assert.match(await ok(['endpoint', 'list', 'cli-app']), /hook\s+http:\/\/127\.0\.0\.1:\d+\/hook\s+order\.created,order\.paid/);
    const headers = await json(['endpoint', 'headers', 'cli-app', 'hook', '--set', 'x-env=test', '--unset', 'x-team']);
    assert.deepEqual(headers.headers, { 'x-env': 'test' });
    const secret = (await ok(['endpoint', 'secret', 'cli-app', 'hook'])).trim();
    assert.match(secret, /^whsec_/);

    const msgId = (await ok(['send', 'cli-app', 'order.created', '{"id":"o1","amount":5}', '--event-id', 'o1'])).trim();
    assert.match(msgId, /^msg_/);
    const viaStdin = JSON.parse(await ok(['message', 'send', 'cli-app', 'order.paid', '-', '--json'], { input: '{"id":"o2"}' }));
    assert.match(viaStdin.id, /^msg_/);
    await eventually(() => rx.at('/hook').length >= 1, 'the delivery');
    assert.match(await ok(['message', 'list', 'cli-app']), new RegExp(`${msgId}\\s+order\\.created\\s+o1`));
    assert.deepEqual((await json(['message', 'get', 'cli-app', 'o1'])).payload, { id: 'o1', amount: 5 });
    const dup = await cli(['send', 'cli-app', 'order.created', '{}', '--event-id', 'o1']);
    assert.equal(dup.code, EXIT.conflict);

    const delivered = rx.at('/hook').find((r) => r.headers['webhook-id'] === msgId)!;
    const body = join(home, 'body.json');
    writeFileSync(body, delivered.body);
    const h = JSON.stringify({ 'Webhook-Id': delivered.headers['webhook-id'], 'Webhook-Timestamp': delivered.headers['webhook-timestamp'], 'Webhook-Signature': delivered.headers['webhook-signature'] });
    assert.equal((await ok(['verify', '--secret', secret, '--headers', h, '--payload-file', body])).trim(), 'valid');
    assert.equal((await ok(['verify', '--secret', secret, '--headers', h], { input: delivered.body })).trim(), 'valid');
    const tampered = await cli(['verify', '--secret', secret, '--headers', h, '--payload', delivered.body.replace('"o1"', '"o2"')]);
    assert.equal(tampered.code, EXIT.verificationFailed);
    assert.match(tampered.stdout, /invalid: no signature matches/);
    const old = await cli(['verify', '--secret', secret, '--id', msgId, '--timestamp', '1000', '--signature', String(delivered.headers['webhook-signature']), '--payload-file', body]);
    assert.equal(old.code, EXIT.verificationFailed);
    assert.match(old.stdout, /timestamp/);

    // Waited for through the API (each CLI run is a process of its own), then listed by the CLI.
    await attemptsOf(server, 'cli-app', msgId);
    const attempts: any[] = await json(['attempt', 'list', 'cli-app', '--msg', msgId]);
    assert.ok(attempts.length > 0, 'a recorded attempt');
    assert.equal(attempts[0].responseStatusCode, 200);
    assert.match(await ok(['attempt', 'list', 'cli-app', '--endpoint', 'hook']), /success\s+200/);
    assert.match(await ok(['attempt', 'get', 'cli-app', msgId, attempts[0].id]), /responseStatusCode:\s+200/);
    assert.match(await ok(['message', 'destinations', 'cli-app', msgId]), /success/);
    assert.equal((await cli(['attempt', 'list', 'cli-app'])).code, EXIT.usage);
    await ok(['message', 'expunge', 'cli-app', msgId]);
    assert.deepEqual((await json(['message', 'get', 'cli-app', msgId])).payload, {});
    assert.match(await ok(['endpoint', 'disable', 'cli-app', 'hook']), /disabled/);
    assert.equal((await json(['endpoint', 'get', 'cli-app', 'hook'])).disabled, true);
    await ok(['endpoint', 'enable', 'cli-app', 'hook']);
    const stats = await json(['endpoint', 'stats', 'cli-app', 'hook', '--since', '1h']);
    assert.ok(stats.success >= 1);
  });

  it('resends failed messages in bulk and follows a recovery to the end', async () => {
    failing = true;
    await ok(['event-type', 'create', 'flaky.t', '--description', 'f']);
    await ok(['endpoint', 'create', 'cli-app', '--url', rx.url('/flaky'), '--uid', 'flaky', '--event-types', 'flaky.t']);
    for (let i = 0; i < 3; i++) await ok(['send', 'cli-app', 'flaky.t', JSON.stringify({ i })]);
    const failed = async (): Promise<number> => (await json(['endpoint', 'stats', 'cli-app', 'flaky'])).fail;
    // Waited for through the API (each CLI run is a process of its own), then read by the CLI.
    const failedOnServer = async (): Promise<number> => (await server.api('GET', '/api/v1/app/cli-app/endpoint/flaky/stats')).body.fail;
    await eventually(async () => (await failedOnServer()) >= 3, 'three failed messages');
    assert.equal(await failed(), 3);
    failing = false;
    const before = rx.at('/flaky').length;
    const out = await ok(['message', 'resend', 'cli-app', '--endpoint', 'flaky', '--status', 'fail', '--since', '1h']);
    assert.match(out, /resent 3 message\(s\) to flaky/);
    await eventually(() => rx.at('/flaky').length === before + 3, 'three resent deliveries');

    failing = true;
    for (let i = 0; i < 2; i++) await ok(['send', 'cli-app', 'flaky.t', JSON.stringify({ later: i })]);
    await eventually(async () => (await failedOnServer()) >= 2, 'two failed messages');
    failing = false;
    const done = await ok(['endpoint', 'recover', 'cli-app', 'flaky', '--since', '1h', '--wait', '--timeout', '30']);
    assert.match(done, /recover: done; in the window 5 delivered, 0 failed/);
    const missing = await cli(['message', 'resend', 'cli-app', 'msg_nope', '--endpoint', 'flaky']);
    assert.equal(missing.code, EXIT.notFound);
  });

  it('manages operational webhook endpoints', async () => {
    const id = (await ok(['operational-webhook', 'create', '--url', rx.url('/ops'), '--event-types', 'endpoint.disabled'])).trim();
    assert.match(await ok(['operational-webhook', 'list']), new RegExp(`${id}\\s+.*endpoint\\.disabled`));
    assert.match((await ok(['operational-webhook', 'secret', id])).trim(), /^whsec_/);
    const bad = await cli(['operational-webhook', 'create', '--url', rx.url('/ops'), '--event-types', 'nope']);
    assert.equal(bad.code, EXIT.invalid);
    await ok(['operational-webhook', 'delete', id]);
  });

  it('maps failures to exit codes', async () => {
    assert.equal((await cli(['app', 'get', 'app_missing'])).code, EXIT.notFound);
    const invalid = await cli(['endpoint', 'create', 'cli-app', '--url', 'ftp://nope']);
    assert.equal(invalid.code, EXIT.invalid);
    assert.equal((await cli(['app', 'list'], { env: { SWITCHBOARD_TOKEN: 'sb_wrong' } })).code, EXIT.auth);
    const down = await cli(['app', 'list', '--server', 'http://127.0.0.1:9']);
    assert.equal(down.code, EXIT.unreachable);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
    assert.equal((await cli(['app', 'list', '--server', 'not a url'])).code, EXIT.usage);
  });

  it('accepts --server, --token and --json before or after the command', async () => {
    const noEnv = { SWITCHBOARD_SERVER_URL: undefined, SWITCHBOARD_TOKEN: undefined, SWITCHBOARD_CLI_CONFIG: join(home, 'no-config.json') };
    const conn = ['--server', server.url, '--token', server.token];
    const before = await cli([...conn, '--json', 'app', 'list'], { env: noEnv });
    assert.equal(before.code, 0, before.stderr);
    const after = await cli(['app', 'list', ...conn, '--json'], { env: noEnv });
    assert.equal(after.code, 0, after.stderr);
    const mixed = await cli(['--server', server.url, 'app', 'list', '--token', server.token, '--json'], { env: noEnv });
    assert.equal(mixed.code, 0, mixed.stderr);
    const ids = (r: CliRun): string[] => (JSON.parse(r.stdout) as { id: string }[]).map((a) => a.id);
    assert.ok(ids(before).length > 0);
    assert.deepEqual(ids(after), ids(before));
    assert.deepEqual(ids(mixed), ids(before));
    // On a command one level deeper, on `send`, and on commands with their own options.
    assert.match((await ok([...conn, 'app', 'get', 'cli-app'], { env: noEnv })), /name:\s+Renamed/);
    const sent = JSON.parse(await ok(['--json', ...conn, 'send', 'cli-app', 'order.created', '{"id":"g1"}'], { env: noEnv })) as { id: string };
    assert.match(sent.id, /^msg_/);
    const verified = await cli(['--json', 'verify', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '--id', 'x', '--timestamp', '1', '--signature', 'v1,x', '--tolerance', '0', '--payload', '{}'], { env: noEnv });
    assert.equal(verified.code, EXIT.verificationFailed);
    assert.deepEqual(JSON.parse(verified.stdout), { valid: false, reason: 'no signature matches' });
    const settings = JSON.parse(await ok(['--json', 'config'], { env: noEnv })) as Record<string, string>;
    assert.ok(Object.keys(settings).some((k) => k.startsWith('SWITCHBOARD_')));
    // A server given before the command is the one used: an unreachable one says so.
    for (const args of [['--server', 'http://127.0.0.1:9', '--token', 'sb_x', 'app', 'list'], ['app', 'list', '--server', 'http://127.0.0.1:9', '--token', 'sb_x']]) {
      const down = await cli(args, { env: noEnv });
      assert.equal(down.code, EXIT.unreachable, args.join(' '));
      assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
    }
    // `login` takes them on either side too.
    const config = join(home, 'login-order.json');
    await ok(['--server', server.url, '--token', server.token, 'login'], { env: { ...noEnv, SWITCHBOARD_CLI_CONFIG: config } });
    assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), { server: server.url, token: server.token });
    assert.match(await ok(['app', 'list'], { env: { ...noEnv, SWITCHBOARD_CLI_CONFIG: config } }), /cli-app/);
    assert.match(await ok(['--help']), /--server <url>/);
    assert.match(await ok(['app', 'list', '--help']), /Global Options:[\s\S]*--server <url>[\s\S]*--token <token>[\s\S]*--json/);
  });

  it('prints the reason of every failure on stderr and exits non-zero', async () => {
    const noToken = { SWITCHBOARD_TOKEN: undefined, SWITCHBOARD_CLI_CONFIG: join(home, 'no-config.json') };
    const missing = join(home, 'missing.json');
    const cases: { args: string[]; env?: Record<string, string | undefined>; input?: string; code: number; reason: RegExp }[] = [
      { args: ['send', 'cli-app', 'order.created', '{not json'], code: EXIT.usage, reason: /the payload is not valid JSON/ },
      { args: ['send', 'cli-app', 'order.created', '-'], input: 'nope', code: EXIT.usage, reason: /the payload is not valid JSON/ },
      { args: ['send', 'cli-app', 'order.created', '[1]'], code: EXIT.usage, reason: /the payload must be a JSON object/ },
      { args: ['send', 'cli-app', 'order.created', `@${missing}`], code: EXIT.usage, reason: /cannot read the payload from .*missing\.json/ },
      { args: ['event-type', 'create', 'bad.schema', '--description', 'd', '--schema', '{'], code: EXIT.usage, reason: /--schema is not valid JSON/ },
      { args: ['verify', '--secret', 'whsec_x', '--headers', '{'], code: EXIT.usage, reason: /--headers is not valid JSON/ },
      { args: ['verify', '--secret', 'whsec_x', '--id', 'x', '--timestamp', '1', '--signature', 'v1,x', '--payload-file', missing], code: EXIT.usage, reason: /cannot read --payload-file/ },
      { args: ['sources', 'create', '--type', 'poll', '--name', 'x', '--config', '{'], code: EXIT.usage, reason: /--config is not valid JSON/ },
      { args: ['sources', 'create', '--type', 'poll', '--name', 'x', '--config-file', missing], code: EXIT.usage, reason: /cannot read --config-file/ },
      { args: ['app', 'list', '--limit', 'many'], code: EXIT.usage, reason: /expected a whole number, got "many"/ },
      { args: ['app', 'list', '--no-such-flag'], code: EXIT.usage, reason: /unknown option '--no-such-flag'/ },
      { args: ['app', 'lst'], code: EXIT.usage, reason: /unknown command 'lst'/ },
      { args: ['endpoint', 'create', 'cli-app'], code: EXIT.usage, reason: /required option '--url <url>' not specified/ },
      { args: ['message', 'list', 'cli-app', '--after', 'yesterday-ish'], code: EXIT.usage, reason: /expected a date-time/ },
      { args: ['listen', '--app', 'cli-app', '--forward-to', 'ftp://x'], code: EXIT.usage, reason: /--forward-to must be an http/ },
      { args: ['listen', '--app', 'cli-app', '--forward-to', 'http://127.0.0.1:1', '--transport', 'pigeon'], code: EXIT.usage, reason: /--transport must be auto, sse or poll/ },
      { args: ['--server', 'http://127.0.0.1:9'], code: EXIT.usage, reason: /--server and --token are for the commands that talk to a server/ },
      { args: ['app', 'list', '--server', 'not a url'], code: EXIT.usage, reason: /"not a url" is not an http\(s\) URL/ },
      { args: ['app', 'list', '--server', 'http://127.0.0.1:9'], code: EXIT.unreachable, reason: /cannot reach http:\/\/127\.0\.0\.1:9/ },
      { args: ['app', 'list'], env: noToken, code: EXIT.auth, reason: /no token: pass --token, set SWITCHBOARD_TOKEN, or run `switchboard login`/ },
      { args: ['listen', '--app', 'cli-app', '--forward-to', 'http://127.0.0.1:1'], env: noToken, code: EXIT.auth, reason: /a token is needed/ },
      { args: ['app', 'list'], env: { SWITCHBOARD_TOKEN: 'sb_wrong' }, code: EXIT.auth, reason: /401/ },
      { args: ['app', 'get', 'app_missing'], code: EXIT.notFound, reason: /404 not_found: / },
      { args: ['endpoint', 'create', 'cli-app', '--url', 'ftp://nope'], code: EXIT.invalid, reason: /^switchboard: 4\d\d \S+: .+/m },
      { args: ['app', 'create', '--name', 'x', '--uid', 'cli-app'], code: EXIT.conflict, reason: /409 conflict: / },
    ];
    // The cases change nothing on the server: a few processes at a time.
    const results = new Map<(typeof cases)[number], CliRun>();
    const queue = [...cases];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) results.set(c, await cli(c.args, { env: c.env, input: c.input }));
      }),
    );
    for (const c of cases) {
      const r = results.get(c)!;
      const what = `switchboard ${c.args.join(' ')}`;
      assert.equal(r.code, c.code, `${what} exited ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, c.reason, `${what} says why on stderr`);
    }
  });

  it('never prints the token', () => {
    assert.ok(outputs.length > 20);
    for (const o of outputs) assert.ok(!o.includes(server.token), 'a command printed the token');
  });
});

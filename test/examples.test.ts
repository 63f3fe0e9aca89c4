/**
 * The examples and the README quickstart, run as a newcomer runs them: every
 * `examples/<name>/run.mjs` as a child process against a fresh server (and one of them
 * starting its own), and the shell and JavaScript blocks of the README's quickstart section,
 * in order, with the server's address, ports and `npx` swapped for this run's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './helpers/eventually.js';
import { freePort } from './helpers/process.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(root, 'bin/switchboard.js');
const ON_POSTGRES = process.env.SWITCHBOARD_TEST_STORE === 'postgres';

/** The settings an example starts its own server with, given to the test's server instead. */
const SETTINGS: Record<string, Record<string, string>> = {
  'inventory-sync': { SWITCHBOARD_RETRY_SCHEDULE: '1,1,2,2,5' },
  'migrate-from-svix': { SWITCHBOARD_RETRY_SCHEDULE: '1' },
};

/** The environment of a child: this one's, without the test runner's context and Switchboard settings. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NODE_TEST_CONTEXT' && !k.startsWith('SWITCHBOARD_')) env[k] = v;
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  return { ...env, ...extra };
}

interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a command in its own process group (so stopping it stops what it started), collecting its output. */
function start(command: string, args: string[], opts: { cwd?: string; env: Record<string, string> }): Child {
  const child = spawn(command, args, { cwd: opts.cwd ?? root, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function stop(c: Child): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  try {
    process.kill(-c.child.pid!, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-c.child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 10_000);
  await c.exited;
  clearTimeout(timer);
}

const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'examples', d.name, 'run.mjs')))
  .map((d) => d.name)
  .sort();

describe('examples', { concurrency: 1 }, () => {
  it('has the five scenarios, each with a README', () => {
    for (const name of ['crm-lead', 'inventory-sync', 'no-public-url', 'payment-notifications', 'weather-polling']) assert.ok(examples.includes(name), `examples/${name}/run.mjs`);
    for (const name of examples) assert.ok(existsSync(join(root, 'examples', name, 'README.md')), `examples/${name}/README.md`);
  });

  for (const name of examples) {
    it(`${name} runs against a server and checks its own result`, { timeout: 300_000 }, async () => {
      const server = await startServer(SETTINGS[name] ?? {});
      try {
        const run = start(process.execPath, [join(root, 'examples', name, 'run.mjs')], {
          env: childEnv({ SWITCHBOARD_SERVER_URL: server.url, SWITCHBOARD_TOKEN: server.token }),
        });
        const code = await run.exited;
        assert.equal(code, 0, `examples/${name} exited ${code}:\n${run.output()}`);
        assert.match(run.output(), new RegExp(`^OK ${name}: `, 'm'));
      } finally {
        await server.close();
      }
    });
  }

  it('an example starts its own server when none is given', { timeout: 300_000, skip: ON_POSTGRES && 'the same on either store: its server is its own' }, async () => {
    const run = start(process.execPath, [join(root, 'examples/crm-lead/run.mjs')], { env: childEnv({}) });
    const code = await run.exited;
    assert.equal(code, 0, `examples/crm-lead exited ${code}:\n${run.output()}`);
    assert.match(run.output(), /^OK crm-lead: /m);
  });
});

interface Block {
  lang: string;
  /** `run` (the default), `server` (not run: the test's server stands in), `background`, or `file`. */
  kind: string;
  /** For `file`: the name; for `background`: what its output says once it is ready. */
  arg: string;
  code: string;
}

/** The fenced blocks of the README's quickstart section, with the marker comment before each. */
function quickstartBlocks(readme: string): Block[] {
  const begin = readme.indexOf('<!-- quickstart:begin');
  const end = readme.indexOf('<!-- quickstart:end -->');
  assert.ok(begin >= 0 && end > begin, 'README.md marks its quickstart with <!-- quickstart:begin ... --> and <!-- quickstart:end -->');
  const blocks: Block[] = [];
  const re = /(?:<!-- quickstart:(server|background|file)(?: ready="([^"]*)"| ([^ ]+))? -->\n)?```(\w+)\n([\s\S]*?)```/g;
  for (const m of readme.slice(begin, end).matchAll(re)) {
    blocks.push({ kind: m[1] ?? 'run', arg: m[2] ?? m[3] ?? '', lang: m[4]!, code: m[5]! });
  }
  return blocks;
}

describe('README quickstart', () => {
  let server: TestServer;
  let dir: string;
  const background: Child[] = [];

  before(async () => {
    server = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-quickstart-'));
    // A checkout, as far as the quickstart can tell: its admin token file and its node_modules.
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/admin-token'), server.token + '\n');
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });

  after(async () => {
    for (const c of background) await stop(c);
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  });

  it('runs as written and the messages arrive signed, by webhook, long polling and listen', { timeout: 300_000 }, async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const [receiverPort, listenPort] = [await freePort(), await freePort()];
    const serverAddress = server.url.replace(/^http:\/\//, '');
    const adapt = (code: string): string =>
      code
        .replaceAll('localhost:8071', serverAddress)
        .replace(/\b3000\b/g, String(receiverPort))
        .replace(/\b3001\b/g, String(listenPort))
        .replaceAll('npx switchboard', `node ${BIN}`);
    const blocks = quickstartBlocks(readme);
    assert.ok(blocks.some((b) => b.kind === 'server') && blocks.some((b) => b.kind === 'background') && blocks.some((b) => b.lang === 'js'));

    const env = childEnv({ HOME: dir, SWITCHBOARD_SERVER_URL: server.url, SWITCHBOARD_CLI_CONFIG: join(dir, 'cli.json') });
    // Variables exported by one block are there for the next, as in one terminal.
    const state = join(dir, '.exports');
    writeFileSync(state, '');
    const outputs: string[] = [];
    for (const block of blocks) {
      const code = adapt(block.code);
      if (block.kind === 'server') {
        // `npm start` is development mode, which lets localhost receivers in (test/cli/first-run.test.ts);
        // the test's server, with loopback allowed, stands in for it.
        assert.equal(code.trim(), 'npm start');
        assert.match(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start, / serve --dev$/);
        continue;
      }
      if (block.kind === 'file') {
        assert.equal(block.lang, 'js');
        writeFileSync(join(dir, block.arg), code);
        continue;
      }
      assert.equal(block.lang, 'sh', `a block that is not a file to save is a shell command:\n${block.code}`);
      if (block.kind === 'background') {
        const command = code.trim().replace(/&$/, '');
        assert.ok(!command.includes('\n'), `a background block is one command: ${command}`);
        const c = start('bash', ['-c', `set -a; source ${state}; set +a; ${command}`], { cwd: dir, env });
        background.push(c);
        await eventually(() => c.output().includes(block.arg) || c.child.exitCode !== null, `"${block.arg}" from: ${command}`, { timeoutMs: 60_000 });
        assert.equal(c.child.exitCode, null, `${command} stopped:\n${c.output()}`);
        continue;
      }
      const c = start('bash', ['-c', `set -eo pipefail; set -a; source ${state}; set +a\n${code}\nexport -p > ${state}`], { cwd: dir, env });
      const exit = await c.exited;
      assert.equal(exit, 0, `this block failed (exit ${exit}):\n${code}\n${c.output()}`);
      outputs.push(c.output());
    }

    // The receiver on port 3000 got the four invoices, the one behind listen the last: all verified.
    const [receiver, listen, listenReceiver] = background;
    assert.ok(receiver && listen && listenReceiver, 'the quickstart starts a receiver, listen and a second receiver');
    const verified = (c: Child, invoice: string): string | undefined => new RegExp(`^verified (msg_\\w+) \\{"id":"${invoice}"`, 'm').exec(c.output())?.[1];
    await eventually(() => ['in_1', 'in_2', 'in_3', 'in_4'].every((i) => verified(receiver, i)), 'the receiver to verify in_1 to in_4', { timeoutMs: 60_000 });
    await eventually(() => verified(listenReceiver, 'in_4') !== undefined, 'the second receiver to verify in_4 from listen', { timeoutMs: 60_000 });
    for (const c of [receiver, listenReceiver]) assert.doesNotMatch(c.output(), /refused/);
    assert.equal(verified(listenReceiver, 'in_4'), verified(receiver, 'in_4'), 'listen forwards the message with its id');
    assert.match(listen.output(), /invoice\.paid\s+msg_\w+\s+-> 204/);

    // The long poll read in_1, with the id it was delivered with.
    const polled = outputs.map((o) => /\{"data":\[.*\}/.exec(o)?.[0]).find((o) => o !== undefined);
    assert.ok(polled, `a poll answer among the outputs:\n${outputs.join('\n')}`);
    const first = JSON.parse(polled).data[0];
    assert.deepEqual([first.id, first.payload], [verified(receiver, 'in_1'), { id: 'in_1', amount: 4200 }]);
  });
});

/**
 * `switchboard listen` end to end: the real command in a child process, a real Switchboard
 * and a real local receiver that checks every request with the `standardwebhooks` verifier.
 * The payload bytes must arrive exactly as stored, and a restart must lose and repeat nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { eventually } from '../helpers/eventually.js';
import { rawRows } from '../helpers/raw-db.js';
import { Receiver } from '../helpers/receiver.js';
import type { Received } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

interface Listen {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves with the first line matching `re` (already printed or still to come). */
  line(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

function listen(args: string[]): Listen {
  const child = spawn(process.execPath, [MAIN, 'listen', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // After 'close' its output is all read.
  let closed = false;
  child.on('close', () => (closed = true));
  return {
    child,
    lines,
    async line(re, ms = 30_000) {
      const found = () => lines.map((l) => l.match(re)).find((m) => m !== null);
      // Until the line is there, or listen has ended with everything it printed read.
      await eventually(() => found() ?? closed, `a line ${re} from listen`, { timeoutMs: ms }).catch(() => undefined);
      const m = found();
      if (!m) throw new Error(`no line ${re} from listen; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`);
      return m;
    },
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

function verify(r: Received, secret: string): unknown {
  const h = (n: string) => String(r.headers[n]);
  return new Webhook(secret).verify(r.body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') });
}

describe('switchboard listen', () => {
  let server: TestServer;
  let rx: Receiver;
  let appId: string;
  let dir: string;
  const running: Listen[] = [];

  const start = (args: string[]): Listen => {
    const l = listen(['--server', server.url, '--token', server.token, '--app', appId, ...args]);
    running.push(l);
    return l;
  };
  const publish = async (eventType: string, payload: unknown): Promise<string> => {
    const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType, payload });
    assert.equal(r.status, 202);
    return r.body.id;
  };
  /** The payload text exactly as the server stored it. */
  const stored = async (id: string): Promise<string> => (await rawRows(server.sb.store, 'SELECT payload FROM messages WHERE id = ?', id))[0]!.payload as string;

  before(async () => {
    server = await startServer();
    rx = await new Receiver().start();
    appId = (await server.api('POST', '/api/v1/app', { name: 'listen', uid: 'listen-app' })).body.id;
    dir = mkdtempSync(join(tmpdir(), 'switchboard-listen-'));
  });
  after(async () => {
    for (const l of running) if (l.child.exitCode === null) l.child.kill('SIGKILL');
    await rx.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards every message signed, with the stored payload bytes, and resumes after a restart with no loss or duplicate', async () => {
    const args = ['--forward-to', rx.url('/hook'), '--state', join(dir, 'state.json')];
    // A second listener, filtered, is stopped before any message: it must keep its position all the same.
    const earlyArgs = ['--forward-to', rx.url('/early'), '--state', join(dir, 'early.json'), '--types', 'wanted.one'];
    const [first, early] = [start(args), start(earlyArgs)];
    const secret = (await first.line(/Signing secret: (whsec_\S+)/))[1]!;
    await first.line(/Connected to .* \(stream\)/);
    await early.line(/Connected/);
    assert.equal(await early.stop(), 0);
    const payloads = [
      { n: 1, text: 'plain' },
      { n: 2, nested: { deep: [1, 2.5, { x: null }] }, unicode: 'é ü \u2028 😀', quote: '"\\' },
      { n: 3, big: 'y'.repeat(20_000) },
    ];
    const sent: string[] = [];
    for (const p of payloads) sent.push(await publish('listen.test', p));
    await eventually(() => rx.at('/hook').length >= 3, 'three forwarded messages');
    for (const [i, r] of rx.at('/hook').entries()) {
      assert.equal(r.headers['webhook-id'], sent[i]);
      assert.deepEqual(verify(r, secret), payloads[i], 'the signature verifies');
      assert.equal(r.body, await stored(sent[i]!), 'the payload bytes are unchanged');
    }
    await first.line(new RegExp(`listen\\.test  ${sent[2]}  -> 200 \\(\\d+ ms\\)`));
    assert.equal(await first.stop(), 0, 'listen stops cleanly on SIGTERM');

    // Messages published while listen is down arrive after it restarts, once each.
    for (let i = 4; i <= 6; i++) sent.push(await publish('listen.test', { n: i }));
    const wanted = await publish('wanted.one', { early: true });
    sent.push(wanted);
    const [second, earlyAgain] = [start(args), start(earlyArgs)];
    assert.equal((await second.line(/Signing secret: (whsec_\S+)/))[1], secret, 'the secret is stable across restarts');
    await eventually(() => rx.at('/hook').length >= 7, 'the messages published while it was down');
    sent.push(await publish('listen.test', { n: 7 }));
    await eventually(() => rx.at('/hook').length >= 8 && rx.at('/early').length >= 1, 'a message published after the restart');
    assert.deepEqual(await Promise.all([second.stop(), earlyAgain.stop()]), [0, 0]);
    assert.deepEqual(rx.at('/hook').map((r) => r.headers['webhook-id']), sent, 'every message exactly once, in order');
    for (const r of rx.at('/hook')) verify(r, secret);
    assert.deepEqual(rx.at('/early').map((r) => r.headers['webhook-id']), [wanted], 'the filtered listener resumed from where it connected');
  });

  it('works by long polling too, reports a failing local server without stopping, and stops on a refused token', async () => {
    rx.on('/failing', (_r, res) => void res.writeHead(500).end('no'));
    const l = start(['--forward-to', rx.url('/failing'), '--state', join(dir, 'poll.json'), '--transport', 'poll', '--types', 'poll.test']);
    const refused = listen(['--server', server.url, '--token', 'wrong', '--app', appId, '--forward-to', rx.url('/x'), '--state', join(dir, 'refused.json')]);
    running.push(refused);
    const refusedExit = new Promise<number | null>((resolve) => refused.child.on('exit', resolve));
    const secret = (await l.line(/Signing secret: (whsec_\S+)/))[1]!;
    await l.line(/Connected to .* \(long polling\)/);
    const a = await publish('poll.test', { a: 1 });
    const b = await publish('poll.test', { b: 2 });
    await eventually(() => rx.at('/failing').length >= 2, 'two forwarded messages');
    await l.line(new RegExp(`${b}  -> 500`));
    assert.deepEqual(rx.at('/failing').map((r) => r.headers['webhook-id']), [a, b]);
    for (const r of rx.at('/failing')) verify(r, secret);
    assert.equal(await l.stop(), 0);
    assert.equal(await refusedExit, 1, 'a refused token ends listen with an error');
  });

  for (const transport of ['sse', 'poll']) {
    it(`--since replays what was published before it ran (${transport}), then goes on live`, async () => {
      const type = `since.${transport}`;
      const before = new Date(Date.now() - 1000).toISOString();
      const early = [await publish(type, { n: 1 }), await publish(type, { n: 2 })];
      const path = `/since-${transport}`;
      const l = start(['--forward-to', rx.url(path), '--state', join(dir, `since-${transport}.json`), '--transport', transport, '--types', type, '--since', before]);
      const secret = (await l.line(/Signing secret: (whsec_\S+)/))[1]!;
      await eventually(() => rx.at(path).length >= 2, 'the messages published before listen started');
      const late = await publish(type, { n: 3 });
      await eventually(() => rx.at(path).length >= 3, 'a message published afterwards');
      assert.deepEqual(rx.at(path).map((r) => r.headers['webhook-id']), [...early, late]);
      for (const r of rx.at(path)) verify(r, secret);
      assert.equal(await l.stop(), 0);
    });
  }

  it('refuses --since together with --from-now, and a --since that is not a time', async () => {
    for (const extra of [['--from-now', '--since', '1h'], ['--since', 'yesterday-ish']]) {
      const l = start(['--forward-to', rx.url('/never'), '--state', join(dir, 'bad.json'), ...extra]);
      const code = await new Promise<number | null>((resolve) => (l.child.exitCode !== null ? resolve(l.child.exitCode) : l.child.on('exit', resolve)));
      assert.notEqual(code, 0);
    }
    assert.equal(rx.at('/never').length, 0);
  });
});

/**
 * Per-endpoint rate limits (with injected time), signature header styles, and graceful
 * shutdown of a server process with a delivery in flight.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('per-endpoint rate limit', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rx: Receiver;
  before(async () => {
    clock = new FakeClock();
    rx = await new Receiver().start();
    server = await startServer({}, { clock, sweepIntervalMs: 3_600_000 });
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('sends no faster than rateLimit per second, in publish order', async () => {
    const app = (await server.api('POST', '/api/v1/app', { name: 'limited' })).body.id;
    const ep = await server.api('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/limited'), rateLimit: 2 });
    assert.equal(ep.body.rateLimit, 2);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await server.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'rl', payload: { i } })).body.id);
    await rx.waitFor(() => rx.at('/limited').length === 1, 5000, 'the first burst');
    await settle();
    assert.equal(rx.at('/limited').length, 1, 'a burst of one token (a twentieth of the rate, at least one), then nothing');
    clock.advance(499);
    await settle();
    assert.equal(rx.at('/limited').length, 1, 'no token before 500 ms at 2/s');
    clock.advance(1);
    await rx.waitFor(() => rx.at('/limited').length === 2, 5000, 'one more after 500 ms');
    clock.advance(2000);
    await settle();
    assert.equal(rx.at('/limited').length, 3, 'idle time earns no more than the burst');
    for (let n = 4; n <= 6; n++) {
      clock.advance(500);
      await rx.waitFor(() => rx.at('/limited').length === n, 5000, `delivery ${n} after another 500 ms`);
    }
    assert.deepEqual(
      rx.at('/limited').map((r) => r.headers['webhook-id']),
      ids,
      'delivered in publish order',
    );
  });
});

describe('signature header styles', () => {
  let server: TestServer;
  let rx: Receiver;
  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  for (const style of ['standard', 'svix', 'both'] as const) {
    it(`sends ${style} headers`, async () => {
      const app = (await server.api('POST', '/api/v1/app', { name: style, headerStyle: style })).body;
      assert.equal(app.headerStyle, style);
      const ep = (await server.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: rx.url('/' + style) })).body.id;
      const secret = (await server.api('GET', `/api/v1/app/${app.id}/endpoint/${ep}/secret`)).body.key;
      const msg = (await server.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'hs', payload: { style } })).body.id;
      await rx.waitFor(() => rx.at('/' + style).length === 1, 5000, 'delivery');
      const r = rx.at('/' + style)[0]!;
      const h = r.headers as Record<string, string>;
      assert.equal('webhook-id' in h, style !== 'svix');
      assert.equal('svix-id' in h, style !== 'standard');
      if (style !== 'svix') assert.deepEqual(new StandardWebhook(secret).verify(r.body, h), { style });
      if (style !== 'standard') {
        assert.equal(h['svix-id'], msg);
        assert.deepEqual(new SvixWebhook(secret).verify(r.body, h), { style });
      }
    });
  }
});

describe('graceful shutdown', () => {
  const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));
  let rx: Receiver;
  let dataDir: string;
  before(async () => {
    rx = await new Receiver().start();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-shutdown-'));
  });
  after(async () => {
    await rx.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits on SIGTERM within the grace period and sends the unfinished delivery after restart', async () => {
    // A port the system just handed out and took back: free, unlike a random pick, which can
    // land on a port another test's socket holds.
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createNetServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const base = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      SWITCHBOARD_PORT: String(port),
      SWITCHBOARD_HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: 'sb_shutdown_token',
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_SHUTDOWN_GRACE_MS: '300',
      SWITCHBOARD_LOG_LEVEL: 'silent',
    };
    const start = async () => {
      const child = spawn(process.execPath, [main, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      let exited: number | null | undefined;
      child.once('exit', (code) => (exited = code));
      for (let i = 0; i < 1200; i++) {
        if (exited !== undefined) throw new Error(`server exited with ${exited} while starting: ${stderr.slice(-2000)}`);
        try {
          if ((await fetch(base + '/api/v1/health')).status === 204) return child;
        } catch {
          /* starting */
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      throw new Error(`server did not start: ${stderr.slice(-2000)}`);
    };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: 'Bearer sb_shutdown_token', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as any;
    };
    let answer = false;
    rx.on('/hook', (_r, res) => (answer ? void res.writeHead(200).end() : 'hang'));
    let child = await start();
    const app = (await call('POST', '/api/v1/app', { name: 'shutdown' })).id;
    await call('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/hook') });
    const msg = (await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'sd', payload: {} })).id;
    await rx.waitFor(() => rx.at('/hook').length === 1, 5000, 'the delivery in flight');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'clean exit although a request hangs');
    answer = true;
    child = await start();
    try {
      await rx.waitFor(() => rx.at('/hook').length === 2, 10_000, 'redelivery after restart');
      assert.deepEqual(rx.at('/hook').map((r) => r.headers['webhook-id']), [msg, msg]);
    } finally {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    }
  });
});

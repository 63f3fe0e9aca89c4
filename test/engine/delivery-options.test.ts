/**
 * Per-endpoint rate limits (with injected time), signature header styles, and graceful
 * shutdown of a server process with a delivery in flight.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { eventually, sleep } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { callServer, freePort, startServerProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

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
    await eventually(() => rx.at('/limited').length === 1, 'the first burst');
    await sleep(150); // a window in which no further delivery may happen
    assert.equal(rx.at('/limited').length, 1, 'a burst of one token (a twentieth of the rate, at least one), then nothing');
    clock.advance(499);
    await sleep(150); // a window in which no delivery may happen
    assert.equal(rx.at('/limited').length, 1, 'no token before 500 ms at 2/s');
    clock.advance(1);
    await eventually(() => rx.at('/limited').length === 2, 'one more after 500 ms');
    clock.advance(2000);
    await sleep(150); // a window in which no more than one delivery may happen
    assert.equal(rx.at('/limited').length, 3, 'idle time earns no more than the burst');
    for (let n = 4; n <= 6; n++) {
      clock.advance(500);
      await eventually(() => rx.at('/limited').length === n, `delivery ${n} after another 500 ms`);
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
      await eventually(() => rx.at('/' + style).length === 1, 'delivery');
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

  it('(test harness) starts a server on a port once another socket has let go of it', async () => {
    // A restart on the same port races other tests' sockets, which can hold it for a while.
    const port = await freePort();
    const holder = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', r));
    setTimeout(() => holder.close(), 1_200);
    const server = await startServerProcess({ port, env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_LOG_LEVEL: 'silent' } });
    assert.equal(server.port, port);
    assert.equal(await server.stop('SIGTERM'), 0);
  });

  // Sending on worker threads (1) or on the main thread (0). The request timeout is far longer
  // than the test's: a request still hanging after the grace must be cut, not waited out.
  for (const workers of ['1', '0']) {
    it(`exits on SIGTERM within the grace period and sends the unfinished delivery after restart (send workers: ${workers})`, { timeout: 60_000 }, async () => {
      const hook = `/hook-${workers}`;
      const port = await freePort();
      const start = () =>
        startServerProcess({
          port,
          env: {
            SWITCHBOARD_DATA_DIR: dataDir,
            SWITCHBOARD_ADMIN_TOKEN: 'sb_shutdown_token',
            SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
            SWITCHBOARD_SHUTDOWN_GRACE_MS: '300',
            SWITCHBOARD_REQUEST_TIMEOUT_MS: '600000',
            SWITCHBOARD_SEND_WORKERS: workers,
            SWITCHBOARD_LOG_LEVEL: 'silent',
          },
        });
      const call = async (method: string, path: string, body?: unknown) => (await callServer(`http://127.0.0.1:${port}`, 'sb_shutdown_token', method, path, body)).body;
      let answer = false;
      rx.on(hook, (_r, res) => (answer ? void res.writeHead(200).end() : 'hang'));
      let server = await start();
      const app = (await call('POST', '/api/v1/app', { name: 'shutdown' })).id;
      await call('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url(hook) });
      const msg = (await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'sd', payload: {} })).id;
      await eventually(() => rx.at(hook).length === 1, 'the delivery in flight');
      assert.equal(await server.stop('SIGTERM'), 0, 'clean exit although a request hangs');
      answer = true;
      server = await start();
      try {
        await eventually(() => rx.at(hook).length === 2, 'redelivery after restart');
        assert.deepEqual(rx.at(hook).map((r) => r.headers['webhook-id']), [msg, msg]);
      } finally {
        await server.stop('SIGTERM');
      }
    });
  }
});

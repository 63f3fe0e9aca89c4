/**
 * At-least-once across kill -9: the server runs as a child process, is killed while
 * messages are being published and delivered, and restarted on the same data directory.
 * Every message that was answered 2xx must reach the receiver, signed, with its id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { Receiver } from '../helpers/receiver.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const TOKEN = 'sb_crash_test_token';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startChild(dataDir: string, port: number, durability: string): ChildProcess {
  return spawn(process.execPath, [MAIN, 'serve'], {
    env: {
      ...process.env,
      SWITCHBOARD_PORT: String(port),
      SWITCHBOARD_HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: TOKEN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_DURABILITY: durability,
      SWITCHBOARD_RETRY_SCHEDULE: '0.2,0.5,1,1,1',
      SWITCHBOARD_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitHealthy(base: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(base + '/api/v1/health')).status === 204) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not become healthy');
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

for (const durability of ['full', 'normal']) {
  describe(`kill -9 under load (durability=${durability})`, () => {
    let rx: Receiver;
    let dataDir: string;
    let child: ChildProcess | undefined;

    before(async () => {
      rx = await new Receiver().start();
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
    });
    after(async () => {
      child?.kill('SIGKILL');
      await rx.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('loses no accepted message', async (t) => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      child = startChild(dataDir, port, durability);
      await waitHealthy(base);
      const app = (await call(base, 'POST', '/api/v1/app', { name: 'crash' })).body.id as string;
      // Two endpoints; the slow one keeps deliveries in flight when the process dies.
      rx.on('/slow', (_r, res) => void setTimeout(() => res.writeHead(200).end(), 30));
      const fast = (await call(base, 'POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/fast') })).body.id as string;
      const slow = (await call(base, 'POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/slow') })).body.id as string;
      const secrets = {
        '/fast': (await call(base, 'GET', `/api/v1/app/${app}/endpoint/${fast}/secret`)).body.key as string,
        '/slow': (await call(base, 'GET', `/api/v1/app/${app}/endpoint/${slow}/secret`)).body.key as string,
      };

      const accepted = new Set<string>();
      let stop = false;
      // Kill once a fair amount has been accepted, with publishes and deliveries still running.
      const giveUpAt = Date.now() + 30_000;
      const publisher = async (w: number) => {
        for (let i = 0; !stop && i < 10_000; i++) {
          try {
            const r = await call(base, 'POST', `/api/v1/app/${app}/msg`, { eventType: 'crash.test', payload: { w, i } });
            if (r.status === 202) accepted.add(r.body.id as string);
          } catch {
            return; // the server died mid-request: that message was not accepted
          }
        }
      };
      const load = Promise.all(Array.from({ length: 16 }, (_, w) => publisher(w)));
      while (accepted.size < 300 && Date.now() < giveUpAt) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      stop = true;
      await load;
      assert.ok(accepted.size >= 300, `enough load before the kill (${accepted.size} accepted)`);
      const before = rx.received.length;
      t.diagnostic(`accepted before the kill: ${accepted.size}; requests received before restart: ${before}`);

      child = startChild(dataDir, port, durability);
      await waitHealthy(base);
      for (const path of ['/fast', '/slow'] as const) {
        const seen = () => new Set(rx.at(path).map((r) => r.headers['webhook-id'] as string));
        await rx.waitFor(() => [...accepted].every((id) => seen().has(id)), 30_000, `every accepted message at ${path}`);
        const wh = new Webhook(secrets[path]);
        for (const r of rx.at(path)) {
          const payload = wh.verify(r.body, r.headers as Record<string, string>);
          assert.ok(payload);
        }
      }
      t.diagnostic(`requests received in all: ${rx.received.length} (redeliveries: ${rx.received.length - 2 * accepted.size})`);
      const listed = await call(base, 'GET', `/api/v1/app/${app}/msg?limit=250`);
      assert.equal(listed.status, 200);
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
      child = undefined;
    });
  });
}

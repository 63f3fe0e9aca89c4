/**
 * At-least-once across kill -9: the server runs as a child process, is killed while
 * messages are being published and delivered, and restarted on the same data directory.
 * Every message that was answered 2xx must reach the receiver, signed, with its id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { eventually } from '../helpers/eventually.js';
import { callServer, freePort, startServerProcess } from '../helpers/process.js';
import type { ServerProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

const TOKEN = 'sb_crash_test_token';

function startChild(dataDir: string, port: number, durability: string): Promise<ServerProcess> {
  return startServerProcess({
    port,
    env: {
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: TOKEN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_DURABILITY: durability,
      SWITCHBOARD_RETRY_SCHEDULE: '0.2,0.5,1,1,1',
      SWITCHBOARD_LOG_LEVEL: 'warn',
    },
    stderr: 'inherit',
  });
}

const call = (base: string, method: string, path: string, body?: unknown) => callServer(base, TOKEN, method, path, body);

for (const durability of ['full', 'normal']) {
  describe(`kill -9 under load (durability=${durability})`, () => {
    let rx: Receiver;
    let dataDir: string;
    let child: ServerProcess | undefined;

    before(async () => {
      rx = await new Receiver().start();
      dataDir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
    });
    after(async () => {
      await child?.stop('SIGKILL');
      await rx.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('loses no accepted message', async (t) => {
      const port = await freePort();
      child = await startChild(dataDir, port, durability);
      const { base } = child;
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
      await eventually(() => accepted.size >= 300, '300 accepted messages before the kill', { timeoutMs: 30_000, intervalMs: 5 });
      await child.stop('SIGKILL');
      stop = true;
      await load;
      assert.ok(accepted.size >= 300, `enough load before the kill (${accepted.size} accepted)`);
      const before = rx.received.length;
      t.diagnostic(`accepted before the kill: ${accepted.size}; requests received before restart: ${before}`);

      child = await startChild(dataDir, port, durability);
      for (const path of ['/fast', '/slow'] as const) {
        const seen = () => new Set(rx.at(path).map((r) => r.headers['webhook-id'] as string));
        await eventually(() => [...accepted].every((id) => seen().has(id)), `every accepted message at ${path}`);
        const wh = new Webhook(secrets[path]);
        for (const r of rx.at(path)) {
          const payload = wh.verify(r.body, r.headers as Record<string, string>);
          assert.ok(payload);
        }
      }
      t.diagnostic(`requests received in all: ${rx.received.length} (redeliveries: ${rx.received.length - 2 * accepted.size})`);
      const listed = await call(base, 'GET', `/api/v1/app/${app}/msg?limit=250`);
      assert.equal(listed.status, 200);
      await child.stop();
      child = undefined;
    });
  });
}

/**
 * Idempotent publishes across kill -9: the server runs as a child process and is killed while
 * publishes with idempotency keys are running, then restarted on the same data directory. Every
 * request is sent again with its key, as the svix SDKs retry one whose answer never came. Each
 * key must end with exactly one message: the one its first answer named, if it had one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/eventually.js';
import { callServer, freePort, startServerProcess } from '../helpers/process.js';
import type { ServerProcess } from '../helpers/process.js';

const TOKEN = 'sb_idempotent_crash_token';

const startChild = (dataDir: string, port: number): Promise<ServerProcess> =>
  startServerProcess({
    port,
    env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ADMIN_TOKEN: TOKEN, SWITCHBOARD_DURABILITY: 'full', SWITCHBOARD_LOG_LEVEL: 'warn' },
    stderr: 'inherit',
  });

/** POSTs a publish under `key`: its status, message id and whether it was a replay. */
async function publish(base: string, app: string, key: string, payload: unknown): Promise<{ status: number; id: string; replayed: boolean }> {
  const res = await fetch(`${base}/api/v1/app/${app}/msg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ eventType: 'order.paid', payload }),
  });
  const body = (await res.json()) as { id?: string };
  return { status: res.status, id: body.id ?? '', replayed: res.headers.get('idempotent-replayed') === 'true' };
}

describe('kill -9 while publishing with idempotency keys', () => {
  let dataDir: string;
  let child: ServerProcess | undefined;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-idempotent-crash-'));
  });
  after(async () => {
    await child?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a retry with the same key after the crash never publishes a second message', async (t) => {
    const port = await freePort();
    child = await startChild(dataDir, port);
    const { base } = child;
    const app = (await callServer(base, TOKEN, 'POST', '/api/v1/app', { name: 'idempotent crash' })).body.id as string;

    const sent: { key: string; payload: unknown }[] = [];
    const answered = new Map<string, string>();
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const key = `auto_${c}_${i}`;
        const payload = { c, i };
        sent.push({ key, payload });
        try {
          const r = await publish(base, app, key, payload);
          if (r.status === 202) answered.set(key, r.id);
        } catch {
          return; // the server died mid-request: the answer, if any, is lost
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, c) => client(c)));
    await eventually(() => answered.size >= 300, '300 answered publishes before the kill', { timeoutMs: 30_000, intervalMs: 5 });
    await child.stop('SIGKILL');
    stop = true;
    await load;
    const lost = sent.length - answered.size;
    t.diagnostic(`answered before the kill: ${answered.size}; answers lost: ${lost}`);
    assert.ok(lost > 0, 'some requests were in flight when the server died');

    child = await startChild(dataDir, port);
    const ids = new Set<string>();
    let replayedLost = 0;
    for (let n = 0; n < sent.length; n += 16) {
      await Promise.all(
        sent.slice(n, n + 16).map(async ({ key, payload }) => {
          const r = await publish(child!.base, app, key, payload);
          assert.equal(r.status, 202, `retry of ${key}`);
          const first = answered.get(key);
          if (first !== undefined) {
            assert.equal(r.id, first, `${key}: the retry names the message of the first answer`);
            assert.ok(r.replayed, `${key}: replayed`);
          } else if (r.replayed) replayedLost++;
          ids.add(r.id);
        }),
      );
    }
    t.diagnostic(`requests whose answer was lost but whose message was stored (replayed on retry): ${replayedLost}`);

    const stored = new Set<string>();
    let iterator: string | null = null;
    for (;;) {
      const page = await callServer(child.base, TOKEN, 'GET', `/api/v1/app/${app}/msg?limit=250&with_content=false${iterator ? `&iterator=${iterator}` : ''}`);
      for (const m of page.body.data as { id: string }[]) stored.add(m.id);
      if (page.body.done) break;
      iterator = page.body.iterator as string;
    }
    assert.equal(ids.size, sent.length, 'one message per key');
    assert.deepEqual([...stored].filter((id) => !ids.has(id)), [], 'no message that no answer names (a second one for a key)');
    assert.equal(stored.size, sent.length);
    await child.stop();
    child = undefined;
  });
});

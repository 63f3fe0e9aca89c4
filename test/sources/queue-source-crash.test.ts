/**
 * A Switchboard process consuming a queue (RabbitMQ, a Redis consumer group, a NATS JetStream
 * durable) is killed with SIGKILL mid-stream and started again on the same data directory
 * (or PostgreSQL schema):
 * every broker message ends up in Switchboard exactly once
 * (messages taken but not acked are redelivered, and their event ids, derived from the broker's
 * ids, make the redelivery a duplicate).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/eventually.js';
import { callServer, freePort, startServerProcess } from '../helpers/process.js';
import type { ServerProcess } from '../helpers/process.js';
import { BROKER_KITS } from '../helpers/queue-brokers.js';
import { createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { skipWithoutBroker } from '../helpers/requirements.js';

const TOKEN = 'sb_queue_crash_admin_token_0123456789abcdef';
const COUNT = 1500;
/** Messages published together. */
const PUBLISH_BATCH = 100;

/** With SWITCHBOARD_TEST_STORE=postgres the process keeps its data in a fresh schema; else in its SQLite data directory. */
const ON_POSTGRES = process.env.SWITCHBOARD_TEST_STORE === 'postgres';

function start(dataDir: string, port: number, databaseUrl: string): Promise<ServerProcess> {
  return startServerProcess({
    port,
    env: {
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: TOKEN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_LOG_LEVEL: 'warn',
      SWITCHBOARD_DATABASE_URL: databaseUrl,
    },
  });
}

/** Whether the source has stored at least `n` messages (one page of `n`, without content). */
async function storedAtLeast(base: string, sourceId: string, n: number): Promise<boolean> {
  const page = await callServer(base, TOKEN, 'GET', `/api/v1/app/${sourceId}/msg?limit=${n}`);
  return page.status === 200 && (page.body.data as unknown[]).length >= n;
}

/** The `n` of every message of the source (all pages). */
async function storedNumbers(base: string, sourceId: string): Promise<number[]> {
  const out: number[] = [];
  let iterator: string | null = null;
  for (;;) {
    const page = await callServer(base, TOKEN, 'GET', `/api/v1/app/${sourceId}/msg?limit=250&with_content=true${iterator ? `&iterator=${iterator}` : ''}`);
    if (page.status === 404) return out;
    for (const m of page.body.data as { payload: { n: number } }[]) out.push(m.payload.n);
    if (page.body.done) return out;
    iterator = page.body.iterator as string;
  }
}

for (const broker of ['rabbitMq', 'redis', 'nats'] as const) {
  describe(`queue source survives kill -9: ${broker}`, { skip: await skipWithoutBroker(broker) }, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-queue-crash-'));
    let server: ServerProcess | null = null;
    let schema: TestSchema | null = null;
    after(async () => {
      await server?.stop('SIGKILL');
      await schema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('every broker message is stored exactly once across a crash and restart', async () => {
      const kit = await BROKER_KITS[broker]();
      try {
        const port = await freePort();
        schema = ON_POSTGRES ? await createTestSchema('sbqcrash') : null;
        const databaseUrl = schema?.url ?? '';
        server = await start(dataDir, port, databaseUrl);
        const created = await callServer(server.base, TOKEN, 'POST', '/ingest/api/v1/source', { name: 'crash', type: kit.type, config: { ...kit.config(kit.brokerUrl), eventType: 'crash.test' } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const id = created.body.id as string;
        await eventually(async () => (await callServer(server!.base, TOKEN, 'GET', `/ingest/api/v1/source/${id}`)).body.consumer?.connected === true, 'the consumer to connect');
        // Published a hundred at a time, far faster than the source stores them (a commit each), so
        // the kill below lands mid-stream. Published one by one, each waiting for its confirm, the
        // publisher could be the slower side (a busy broker): the source kept up and had stored
        // every message by the kill, leaving nothing on the broker (seen once, in a whole suite run).
        for (let first = 1; first <= COUNT; first += PUBLISH_BATCH) {
          const batch = Array.from({ length: Math.min(PUBLISH_BATCH, COUNT - first + 1) }, (_, i) => first + i);
          await Promise.all(batch.map((n) => kit.publish(JSON.stringify({ n }), { id: `m-${n}` })));
        }
        // Mid-stream: some stored, not all (checked with one short page, so the kill follows at once).
        await eventually(() => storedAtLeast(server!.base, id, 50), 'some messages stored', { intervalMs: 20 });
        await server.stop('SIGKILL');
        // It died mid-stream: the broker still holds messages (RabbitMQ requeues the unacked ones once it
        // sees the connection gone; Redis keeps them pending; JetStream redelivers them after the ack wait).
        await eventually(async () => (await kit.outstanding()) > 0, 'messages left on the broker after the kill');
        server = await start(dataDir, port, databaseUrl);
        await eventually(async () => (await storedNumbers(server!.base, id)).length >= COUNT, `all ${COUNT} messages stored`, { timeoutMs: 120_000, intervalMs: 500 });
        const numbers = await storedNumbers(server.base, id);
        assert.equal(numbers.length, COUNT, 'no message twice');
        assert.equal(new Set(numbers).size, COUNT, 'every message once');
        await eventually(async () => (await kit.outstanding()) === 0, 'every broker message acknowledged');
      } finally {
        await kit.close();
      }
    });
  });
}

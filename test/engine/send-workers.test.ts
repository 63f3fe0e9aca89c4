/**
 * Sending on worker threads: requests are signed in the worker and verify at a real receiver,
 * the SSRF guard holds there as on the main thread, and a worker that dies with deliveries in
 * flight is replaced at once while those deliveries are retried (at least once, never lost).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { OLD_GENERATION_BASE_MB, YOUNG_GENERATION_MB, sendWorkerHeapLimits } from '../../src/engine/send-workers/heap-limits.js';
import { SendWorkerPool } from '../../src/engine/send-workers/pool.js';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const LOOPBACK = '127.0.0.0/8,::1/128';

describe('send workers', () => {
  let rx: Receiver;
  before(async () => {
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.close();
  });

  it('signs in the worker: the receiver verifies the signature over the body it got', async () => {
    const pool = new SendWorkerPool({ workers: 2, allowedNetworks: LOOPBACK, timeoutMs: 5000 });
    try {
      const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
      const body = '{"hello":"world"}';
      const r = await pool.send({
        url: rx.url('/signed'),
        headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) },
        body,
        signature: { messageId: 'msg_1', timestamp: Math.floor(Date.now() / 1000), secrets: [secret], headers: ['webhook-signature'] },
      });
      assert.equal(r.kind, 'response');
      const got = rx.at('/signed')[0]!;
      assert.equal(got.body, body);
      assert.doesNotThrow(() => new Webhook(secret).verify(got.body, got.headers as Record<string, string>));
    } finally {
      await pool.close();
    }
  });

  it('applies the network guard in the worker: loopback is refused unless allowed', async () => {
    const pool = new SendWorkerPool({ workers: 1, allowedNetworks: '', timeoutMs: 2000 });
    try {
      const literal = await pool.send({ url: rx.url('/guarded'), headers: {}, body: '{}' });
      assert.equal(literal.kind, 'error');
      assert.match(literal.kind === 'error' ? literal.reason : '', /not allowed/);
      const named = await pool.send({ url: `http://localhost:${rx.port}/guarded`, headers: {}, body: '{}' });
      assert.equal(named.kind, 'error');
      assert.match(named.kind === 'error' ? named.reason : '', /not allowed/);
      assert.equal(rx.at('/guarded').length, 0, 'nothing reached the receiver');
    } finally {
      await pool.close();
    }
  });

  it('sizes each worker heap for the largest payloads it may hold at once, with a small young generation', () => {
    const MiB = 1024 * 1024;
    const defaults = sendWorkerHeapLimits({ workers: 2, maxInflight: 1000, maxPayloadBytes: MiB, turnBatch: 32 });
    // Its share of the node's cap plus one turn's batch, at two bytes per character, on top of the base.
    assert.deepEqual(defaults, { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_BASE_MB + 2 * (500 + 32) });
    const oneWorker = sendWorkerHeapLimits({ workers: 1, maxInflight: 1000, maxPayloadBytes: MiB, turnBatch: 32 });
    assert.equal(oneWorker.maxOldGenerationSizeMb, OLD_GENERATION_BASE_MB + 2 * 1032);
    const small = sendWorkerHeapLimits({ workers: 2, maxInflight: 100, maxPayloadBytes: 64 * 1024, turnBatch: 32 });
    assert.equal(small.maxOldGenerationSizeMb, OLD_GENERATION_BASE_MB + Math.ceil((2 * 82 * 64 * 1024) / MiB));
    assert.equal(new SendWorkerPool({ workers: 1, allowedNetworks: LOOPBACK, timeoutMs: 1000 }).heapLimits, undefined, 'V8 defaults without sizes');
  });

  it('a worker under its heap limits holds its whole share of the largest payloads at once', async () => {
    const maxInflight = 24;
    const maxPayloadBytes = 1024 * 1024;
    const pool = new SendWorkerPool({ workers: 1, allowedNetworks: LOOPBACK, timeoutMs: 30_000, heap: { maxInflight, maxPayloadBytes } });
    const held: ServerResponse[] = [];
    rx.on('/large', (_req, res) => {
      held.push(res);
      // Answered only once every request is at the receiver: all of them are in the worker at once.
      if (held.length === maxInflight) for (const r of held.splice(0)) r.writeHead(200).end('ok');
      return 'hang';
    });
    try {
      // Characters outside Latin-1: two bytes each in the worker's heap.
      const body = JSON.stringify({ text: 'ж'.repeat(maxPayloadBytes / 2 - 16) });
      const results = await Promise.all(Array.from({ length: maxInflight }, () => pool.send({ url: rx.url('/large'), headers: { 'content-type': 'application/json' }, body })));
      assert.deepEqual(
        results.map((r) => (r.kind === 'response' ? r.status : r.reason)),
        results.map(() => 200),
      );
      assert.equal(pool.restarts, 0, 'the worker never ran out of memory');
      const applied = pool.workerResourceLimits(0);
      assert.equal(applied?.maxYoungGenerationSizeMb, YOUNG_GENERATION_MB);
      assert.equal(applied?.maxOldGenerationSizeMb, pool.heapLimits?.maxOldGenerationSizeMb);
      assert.equal(rx.at('/large').length, maxInflight);
    } finally {
      await pool.close();
    }
  });

  it('answers requests after close with a failure instead of hanging', async () => {
    const pool = new SendWorkerPool({ workers: 1, allowedNetworks: LOOPBACK, timeoutMs: 2000 });
    await pool.send({ url: rx.url('/before-close'), headers: {}, body: '{}' });
    await pool.close();
    const r = await pool.send({ url: rx.url('/after-close'), headers: {}, body: '{}' });
    assert.equal(r.kind, 'error');
    assert.equal(rx.at('/after-close').length, 0);
  });

  describe('a worker that dies with deliveries in flight', () => {
    let server: TestServer;
    let pool: SendWorkerPool;
    let appId: string;
    /** Responses held until the test lets them go: the deliveries stay in flight in their workers. */
    const held: ServerResponse[] = [];
    let holding = true;

    before(async () => {
      pool = new SendWorkerPool({ workers: 2, allowedNetworks: LOOPBACK, timeoutMs: 15_000 });
      server = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '1,1,1,1,1' }, { sender: pool });
      appId = (await server.api('POST', '/api/v1/app', { name: 'workers' })).body.id;
      rx.on('/crash', (_req, res) => {
        if (!holding) {
          res.writeHead(200).end('ok');
          return;
        }
        held.push(res);
        return 'hang';
      });
    });
    after(async () => {
      await server.close();
    });

    it('is replaced at once; every message arrives at least once and delivery goes on', async (t) => {
      const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/crash') });
      assert.equal(ep.status, 201);
      const ids: string[] = [];
      for (let i = 0; i < 16; i++) {
        const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'crash.test', payload: { i } });
        assert.equal(r.status, 202);
        ids.push(r.body.id);
      }
      // All 16 are at the receiver and unanswered, spread over both workers.
      await eventually(() => held.length === 16, 'every delivery in flight');
      const before = pool.inflightPerWorker();
      assert.ok(before[0]! > 0, `worker 0 holds deliveries (${before.join(', ')})`);

      // Retries are answered at once; the held requests only once the worker is gone.
      holding = false;
      pool.exitWorker(0);
      await eventually(() => pool.restarts === 1 && pool.size === 2, 'the dead worker replaced');
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(200).end('ok');

      const arrived = () => new Set(rx.at('/crash').map((r) => r.headers['webhook-id'] as string));
      // Every message ends delivered: the ones the dead worker held were retried.
      for (const id of ids) {
        await eventually(async () => {
          const list = (await server.api('GET', `/api/v1/app/${appId}/attempt/msg/${id}`)).body.data as { status: number; response: string }[];
          return list.some((a) => a.status === 0);
        }, `a successful attempt of ${id}`);
      }
      for (const id of ids) assert.ok(arrived().has(id), `${id} arrived`);

      // The deliveries the dead worker held were recorded as failed attempts with the reason.
      let crashed = 0;
      for (const id of ids) {
        const list = (await server.api('GET', `/api/v1/app/${appId}/attempt/msg/${id}`)).body.data as { status: number; response: string }[];
        if (list.some((a) => a.status !== 0 && a.response.includes('send worker exited'))) crashed++;
      }
      assert.ok(crashed > 0, 'some attempts failed with "send worker exited"');
      assert.ok(crashed <= before[0]!, `no more failures (${crashed}) than the dead worker held (${before[0]})`);

      // The server keeps delivering on the replacement.
      const more: string[] = [];
      for (let i = 0; i < 8; i++) more.push((await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'crash.test', payload: { more: i } })).body.id);
      await eventually(() => more.every((id) => arrived().has(id)), 'messages published after the crash delivered');

      const total = rx.at('/crash').length;
      const duplicates = total - arrived().size;
      t.diagnostic(`worker 0 held ${before[0]} of 16 deliveries; ${crashed} attempts failed with the worker; ${total} requests for ${arrived().size} messages: ${duplicates} duplicates`);
      // Each delivery the dead worker held had reached the receiver: its retry is a duplicate.
      assert.equal(duplicates, crashed);
    });
  });
});

/**
 * Fairness between applications, end to end (real server, real SQLite, receivers on loopback):
 * one application's endpoints that never answer hold only that application's slots, another
 * application's messages are delivered while they hang, the endpoint, application and node
 * caps hold (counted at the receivers), and a freed slot goes to the next application waiting.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { eventually, sleep } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

/** A receiver whose every request is held open until the test answers it. */
class HangingReceiver extends Receiver {
  readonly open: { path: string; res: ServerResponse }[] = [];
  readonly concurrent = new Map<string, number>();
  readonly peak = new Map<string, number>();
  constructor() {
    super();
    for (let i = 0; i < 8; i++) {
      this.on(`/h${i}`, (r, res) => {
        this.open.push({ path: r.path, res });
        const n = (this.concurrent.get(r.path) ?? 0) + 1;
        this.concurrent.set(r.path, n);
        this.peak.set(r.path, Math.max(this.peak.get(r.path) ?? 0, n));
        res.on('close', () => this.concurrent.set(r.path, (this.concurrent.get(r.path) ?? 1) - 1));
      });
    }
  }
  /** Answers the oldest request still open. */
  answerOne(): void {
    this.open.shift()?.res.writeHead(200).end();
  }
  get hanging(): number {
    let n = 0;
    for (const v of this.concurrent.values()) n += v;
    return n;
  }
}

async function app(server: TestServer, name: string, urls: string[]): Promise<string> {
  const id = (await server.api('POST', '/api/v1/app', { name })).body.id;
  for (const url of urls) assert.equal((await server.api('POST', `/api/v1/app/${id}/endpoint`, { url })).status, 201);
  return id;
}

async function publish(server: TestServer, appId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'fair.test', payload: { i } })).status, 202);
}

describe('fairness between applications', () => {
  let server: TestServer | null = null;
  const receivers: Receiver[] = [];
  const receiver = async <R extends Receiver>(r: R): Promise<R> => {
    receivers.push(r);
    return r.start();
  };
  afterEach(async () => {
    // Receivers first: closing them ends the hung requests, which the server would otherwise wait for.
    for (const r of receivers.splice(0)) await r.close();
    await server?.close();
    server = null;
  });

  const env = (o: Record<string, string>) => ({ SWITCHBOARD_REQUEST_TIMEOUT_MS: '120000', SWITCHBOARD_CIRCUIT_FAILURES: '0', ...o });

  it("delivers another application's messages while one application's hung endpoints fill its cap", async () => {
    server = await startServer(env({ SWITCHBOARD_ENDPOINT_CONCURRENCY: '2', SWITCHBOARD_APP_MAX_INFLIGHT: '5', SWITCHBOARD_MAX_INFLIGHT: '100' }));
    const hung = await receiver(new HangingReceiver());
    const healthy = await receiver(new Receiver());
    const noisy = await app(server, 'noisy', [0, 1, 2, 3].map((i) => hung.url(`/h${i}`)));
    const calm = await app(server, 'calm', [healthy.url('/ok')]);

    await publish(server, noisy, 3); // 12 deliveries, more than the application may send at once
    await eventually(() => hung.hanging === 5, 'the application cap of requests hanging');
    await publish(server, calm, 5);
    await eventually(() => healthy.at('/ok').length === 5, "the other application's deliveries");
    assert.equal(hung.hanging, 5, 'the hung requests are still hanging');
    await sleep(300);
    assert.equal(hung.received.length, 5, 'no more than the application cap was sent to the hung endpoints');
    for (const peak of hung.peak.values()) assert.ok(peak <= 2, `endpoint cap held: peak ${peak}`);
    assert.ok(server.sb.dispatcher.inflightCount >= 5);
  });

  it('holds the node cap across applications and the endpoint cap within one', async () => {
    server = await startServer(env({ SWITCHBOARD_ENDPOINT_CONCURRENCY: '2', SWITCHBOARD_APP_MAX_INFLIGHT: '5', SWITCHBOARD_MAX_INFLIGHT: '8' }));
    const a = await receiver(new HangingReceiver());
    const b = await receiver(new HangingReceiver());
    const appA = await app(server, 'a', [0, 1, 2, 3].map((i) => a.url(`/h${i}`)));
    const appB = await app(server, 'b', [0, 1, 2, 3].map((i) => b.url(`/h${i}`)));
    await publish(server, appA, 3);
    await publish(server, appB, 3);
    await eventually(() => a.hanging + b.hanging === 8, 'the node cap of requests hanging');
    await sleep(300);
    assert.equal(a.hanging + b.hanging, 8, 'node cap');
    assert.equal(a.hanging, 5, 'application cap');
    for (const r of [a, b]) for (const peak of r.peak.values()) assert.ok(peak <= 2, `endpoint cap held: peak ${peak}`);
  });

  it("ends a request stalled in its response body at the endpoint's timeout and frees its slot", async () => {
    server = await startServer(env({ SWITCHBOARD_REQUEST_TIMEOUT_MS: '500', SWITCHBOARD_ENDPOINT_CONCURRENCY: '1', SWITCHBOARD_RETRY_SCHEDULE: '1' }));
    const stalls = await receiver(new Receiver());
    // Headers at once, a first chunk, then nothing: neither a connect nor a headers timeout would end it.
    stalls.on('/stall', (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const id = await app(server, 'stalls', [stalls.url('/stall')]);
    await publish(server, id, 2);
    // Concurrency 1: the second delivery is only sent once the first request's slot is freed.
    await eventually(() => stalls.at('/stall').length >= 2, 'the second request, after the first timed out');
    const attempts = (await server.api('GET', `/api/v1/app/${id}/attempt/endpoint/${(await server.api('GET', `/api/v1/app/${id}/endpoint`)).body.data[0].id}`)).body.data as any[];
    assert.ok(attempts.length >= 1);
    for (const a of attempts) {
      assert.equal(a.responseStatusCode, 0);
      assert.match(a.response, /timeout/);
    }
  });

  it('gives a freed slot to the next application waiting, not back to the one that held it', async () => {
    server = await startServer(env({ SWITCHBOARD_ENDPOINT_CONCURRENCY: '2', SWITCHBOARD_MAX_INFLIGHT: '4' }));
    const hung = await receiver(new HangingReceiver());
    const healthy = await receiver(new Receiver());
    const busy = await app(server, 'busy', [hung.url('/h0'), hung.url('/h1')]);
    const waiting = await app(server, 'waiting', [healthy.url('/ok')]);
    await publish(server, busy, 4); // 8 deliveries: 4 hang (the node cap), 4 wait
    await eventually(() => hung.hanging === 4, 'the node full');
    await publish(server, waiting, 2);
    await sleep(300);
    assert.equal(healthy.received.length, 0, 'the node is full');

    // Each freed slot goes to the other application: the turns alternate while both wait.
    hung.answerOne();
    await eventually(() => healthy.received.length === 1, "the waiting application's first delivery, on the slot the busy one freed");
    await eventually(() => hung.received.length === 5, "the busy application's backlog, on the slot the waiting one freed");
    await sleep(300);
    assert.equal(healthy.received.length, 1);
    hung.answerOne();
    await eventually(() => healthy.received.length === 2, 'its second delivery on the next slot the busy one freed');
    await eventually(() => hung.received.length === 6, 'and the busy one takes the slot after it');
  });
});

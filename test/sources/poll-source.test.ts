/**
 * Polling and cron sources on an injected clock, against a local stand-in for a
 * third-party API (real HTTP on loopback) that changes its data, answers 304 to
 * conditional requests, 429 with Retry-After, 500 and invalid JSON.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { parseNetworks } from '../../src/domain/network.js';
import { createSwitchboard } from '../../src/composition/server.js';
import type { Switchboard } from '../../src/composition/server.js';
import { GuardedPollClient } from '../../src/bridges/sources/poll-source-http.js';
import { PollRunner } from '../../src/bridges/sources/poll-source.js';
import { parsePollConfig } from '../../src/domain/sources/poll-config.js';
import type { IngestStore, RunState } from '../../src/storage/contract/ingest.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { eventually } from '../helpers/eventually.js';
import { rawRows } from '../helpers/raw-db.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import type { Received } from '../helpers/receiver.js';
import { TEST_TOKEN, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const DAY = 86_400_000;

type Mode = 'ok' | '429' | '500' | 'invalid-json';

/** A third-party API, on a loopback receiver: `/items` lists items with an ETag; its behaviour is set by the test. */
class StandInApi {
  items: { id: number; name: string; price: number }[] = [];
  mode: Mode = 'ok';
  pollInterval: number | null = null;
  private version = 1;
  private readonly rx = new Receiver();

  constructor() {
    this.rx.on('/items', (req, res) => {
      const extra: Record<string, string> = this.pollInterval ? { 'x-poll-interval': String(this.pollInterval) } : {};
      const etag = `"v${this.version}"`;
      if (this.mode === '429') res.writeHead(429, { 'retry-after': '300', ...extra }).end('slow down');
      else if (this.mode === '500') res.writeHead(500).end('boom');
      else if (this.mode === 'invalid-json') res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": [');
      else if (req.headers['if-none-match'] === etag) res.writeHead(304, { etag, ...extra }).end();
      else res.writeHead(200, { 'content-type': 'application/json', etag, ...extra }).end(JSON.stringify({ data: this.items, total: this.items.length }));
    });
  }

  /** Every request it got. */
  get requests(): Received[] {
    return this.rx.received;
  }

  /** Changes the data (and so its ETag). */
  set(items: StandInApi['items']): void {
    this.items = items;
    this.version++;
  }

  async start(): Promise<this> {
    await this.rx.start();
    return this;
  }

  get port(): number {
    return this.rx.port;
  }

  url(path: string): string {
    return this.rx.url(path);
  }

  close(): Promise<void> {
    return this.rx.close();
  }
}

describe('polling sources', () => {
  let clock: FakeClock;
  let server: TestServer;
  let api: StandInApi;
  let rx: Receiver;

  before(async () => {
    clock = new FakeClock(Date.UTC(2025, 0, 1));
    api = await new StandInApi().start();
    rx = await new Receiver().start();
    server = await startServer({}, { clock, sweepIntervalMs: 10 * DAY });
  });
  after(async () => {
    await server.close();
    await api.close();
    await rx.close();
  });

  async function run(id: string): Promise<any> {
    return (await server.api('GET', `/ingest/api/v1/source/${id}`)).body.run;
  }

  /** Waits for a run that happened after `after` (by its lastRunAt). */
  async function ranAfter(id: string, after: string | null): Promise<any> {
    return eventually(async () => {
      const r = await run(id);
      return r.lastRunAt !== null && r.lastRunAt !== after && !r.running ? r : null;
    }, 'a run');
  }

  async function messages(id: string): Promise<any[]> {
    return (await server.api('GET', `/api/v1/app/${id}/msg?limit=250`)).body.data;
  }

  it('primes, then emits new and changed items; conditional requests, Retry-After, backoff and X-Poll-Interval', async () => {
    api.set([
      { id: 1, name: 'one', price: 10 },
      { id: 2, name: 'two', price: 20 },
    ]);
    const created = await server.api('POST', '/ingest/api/v1/source', {
      name: 'prices',
      type: 'poll',
      config: {
        url: api.url('/items'),
        headers: { Authorization: 'Bearer third-party-key-123' },
        intervalSecs: 60,
        eventType: 'item.changed',
        items: 'data',
        itemId: 'id',
        emitOn: 'both',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    assert.equal(created.body.ingestUrl, null);
    assert.deepEqual(created.body.config.headerNames, ['Authorization']);
    assert.ok(!JSON.stringify(created.body).includes('third-party-key-123'), 'header values are not shown');
    const ep = await server.api('POST', `/ingest/api/v1/source/${id}/endpoint`, { url: rx.url('/poll') });
    assert.equal(ep.status, 201);

    // First run: remembers what is there, emits nothing.
    let r = await ranAfter(id, null);
    assert.equal(r.lastOutcome, 'primed');
    assert.equal((await messages(id)).length, 0);
    assert.equal(api.requests.at(-1)!.headers.authorization, 'Bearer third-party-key-123');
    const t0 = Date.parse(r.lastRunAt);
    assert.equal(Date.parse(r.nextRunAt), t0 + 60_000);

    // The API changes: one item new, one changed, one as before.
    api.set([
      { id: 1, name: 'one', price: 11 },
      { id: 2, name: 'two', price: 20 },
      { id: 3, name: 'three', price: 30 },
    ]);
    clock.advance(60_000);
    r = await ranAfter(id, r.lastRunAt);
    assert.equal(r.lastOutcome, 'emitted');
    let ms = await messages(id);
    assert.deepEqual(ms.map((m) => m.payload).sort((a, b) => a.id - b.id), [
      { id: 1, name: 'one', price: 11 },
      { id: 3, name: 'three', price: 30 },
    ]);
    assert.ok(ms.every((m) => m.eventType === 'item.changed'));
    await eventually(() => rx.at('/poll').length === 2, 'two deliveries');

    // Nothing changed: the ETag is sent back and the API answers 304.
    clock.advance(60_000);
    r = await ranAfter(id, r.lastRunAt);
    assert.equal(r.lastOutcome, 'not-modified');
    assert.equal(api.requests.at(-1)!.headers['if-none-match'], '"v3"');

    // 429 with Retry-After: 300 s.
    api.mode = '429';
    clock.advance(60_000);
    r = await ranAfter(id, r.lastRunAt);
    assert.equal(r.lastOutcome, 'error');
    assert.match(r.lastError, /HTTP 429/);
    assert.equal(r.failures, 1);
    assert.equal(Date.parse(r.nextRunAt) - Date.parse(r.lastRunAt), 300_000);

    // 500: exponential backoff (interval x 2^failures).
    api.mode = '500';
    clock.advance(300_000);
    r = await ranAfter(id, r.lastRunAt);
    assert.match(r.lastError, /HTTP 500/);
    assert.equal(r.failures, 2);
    assert.equal(Date.parse(r.nextRunAt) - Date.parse(r.lastRunAt), 240_000);

    // Invalid JSON: an error too, backing off further.
    api.mode = 'invalid-json';
    clock.advance(240_000);
    r = await ranAfter(id, r.lastRunAt);
    assert.equal(r.lastError, 'response is not valid JSON');
    assert.equal(r.failures, 3);
    assert.equal(Date.parse(r.nextRunAt) - Date.parse(r.lastRunAt), 480_000);

    // Recovery, with the API asking for a longer interval.
    api.mode = 'ok';
    api.pollInterval = 120;
    api.set([
      { id: 1, name: 'one', price: 11 },
      { id: 2, name: 'two', price: 21 },
      { id: 3, name: 'three', price: 30 },
    ]);
    clock.advance(480_000);
    r = await ranAfter(id, r.lastRunAt);
    assert.equal(r.lastOutcome, 'emitted');
    assert.equal(r.failures, 0);
    assert.equal(r.lastError, null);
    assert.equal(Date.parse(r.nextRunAt) - Date.parse(r.lastRunAt), 120_000);
    ms = await messages(id);
    assert.equal(ms.length, 3);
    assert.equal(new Set(ms.map((m) => m.eventId)).size, 3, 'no duplicates');
    await eventually(() => rx.at('/poll').length === 3, 'three deliveries');

    // Header values are encrypted at rest.
    const row = (await rawRows(server.sb.store, 'SELECT config FROM ingest_sources WHERE id = ?', id))[0] as { config: string };
    assert.ok(row.config.startsWith('sbenc:v1:'));
    assert.ok(!row.config.includes('third-party-key-123'));
  });

  it('emits the first look when emitInitial is set; content hashes identify items by default', async () => {
    const api2 = await new StandInApi().start();
    try {
      api2.set([{ id: 1, name: 'a', price: 1 }, { id: 2, name: 'b', price: 2 }]);
      const created = await server.api('POST', '/ingest/api/v1/source', {
        name: 'initial',
        type: 'poll',
        config: { url: api2.url('/items'), intervalSecs: 30, items: 'data', emitInitial: true },
      });
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      let r = await ranAfter(id, null);
      assert.equal(r.lastOutcome, 'emitted');
      assert.equal((await messages(id)).length, 2);
      assert.equal((await messages(id))[0].eventType, 'poll.item');
      // The same content again (no ETag match: a changed ETag with equal data) is not emitted again.
      api2.set([{ id: 2, name: 'b', price: 2 }, { id: 1, name: 'a', price: 1 }]);
      clock.advance(30_000);
      r = await ranAfter(id, r.lastRunAt);
      assert.equal(r.lastOutcome, 'unchanged');
      assert.equal((await messages(id)).length, 2);
    } finally {
      await api2.close();
    }
  });

  it('refuses bad configs with clear 422s', async () => {
    const bad = async (config: Record<string, unknown>, loc: string) => {
      const r = await server.api('POST', '/ingest/api/v1/source', { name: 'bad', type: 'poll', config });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.deepEqual(r.body.detail[0].loc.slice(0, 3), ['body', 'config', loc]);
    };
    await bad({}, 'url');
    await bad({ url: 'ftp://x/y' }, 'url');
    await bad({ url: api.url('/x'), items: 'data[' }, 'items');
    await bad({ url: api.url('/x'), emitOn: 'sometimes' }, 'emitOn');
    await bad({ url: api.url('/x'), intervalSecs: 0 }, 'intervalSecs');
    await bad({ url: api.url('/x'), headers: { Host: 'x' } }, 'headers');
    await bad({ url: api.url('/x'), headers: { 'X-A': 'a\r\nb' } }, 'headers');
  });
});

describe('a polling run retried after a crash', () => {
  it('derives the same event ids from the same scheduled time, so nothing is emitted twice', async () => {
    const body = Buffer.from(JSON.stringify({ data: [{ id: 1, v: 'a' }, { id: 2, v: 'b' }] }));
    const client = { fetch: async () => ({ kind: 'response' as const, status: 200, headers: {}, body }), close: async () => undefined };
    const store = { pollItems: async () => new Map<string, string>() } as unknown as IngestStore;
    const emitted: string[] = [];
    const runner = new PollRunner(store, client, async (_s, m) => void emitted.push(m.eventId));
    const source = { id: 'src_x', uid: null, name: 'x', type: 'poll', config: {}, metadata: {}, createdAt: 0, updatedAt: 0 };
    const config = parsePollConfig({ url: 'http://127.0.0.1:1/items', items: 'data', itemId: 'id', emitOn: 'both' });
    const state: RunState = { sourceId: 'src_x', nextRunAt: 0, tickAt: 60_000, leaseToken: 1, running: true, lastRunAt: null, lastOutcome: null, lastError: null, failures: 0, etag: null, lastModified: null, primed: true };
    const first = await runner.run(source, config, state, 60_500);
    const retried = await runner.run(source, config, { ...state, leaseToken: 2 }, 125_000);
    assert.equal(first.lastOutcome, 'emitted');
    assert.equal(retried.lastOutcome, 'emitted');
    assert.equal(emitted.length, 4);
    assert.deepEqual(emitted.slice(0, 2), emitted.slice(2), 'the retry publishes the very same event ids (duplicates for the store)');
    assert.ok(emitted.every((id) => id.startsWith('poll.60000.')));
    // A failed run keeps its scheduled time for the retry.
    const failing = new PollRunner(store, { fetch: async () => ({ kind: 'error' as const, reason: 'ECONNRESET' }), close: async () => undefined }, async () => undefined);
    const failed = await failing.run(source, config, state, 60_500);
    assert.equal(failed.tickAt, 60_000);
    assert.equal(failed.lastOutcome, 'error');
  });
});

describe('polling sources and the outbound-address guard', () => {
  it('refuses a private address when saved and when fetched', async () => {
    const api = await new StandInApi().start();
    const server = await startServer({ SWITCHBOARD_ALLOWED_NETWORKS: '' });
    try {
      const r = await server.api('POST', '/ingest/api/v1/source', { name: 'private', type: 'poll', config: { url: api.url('/items') } });
      assert.equal(r.status, 422);
      assert.equal(r.body.detail[0].type, 'value_error.url.address');
      assert.deepEqual(r.body.detail[0].loc, ['body', 'config', 'url']);
      assert.match(r.body.detail[0].msg, /^address not allowed: 127\.0\.0\.1 is in a refused network \(loopback 127\.0\.0\.0\/8\); set SWITCHBOARD_ALLOWED_NETWORKS=127\.0\.0\.1\/32 to allow it$/);
      const meta = await server.api('POST', '/ingest/api/v1/source', { name: 'metadata', type: 'poll', config: { url: 'http://169.254.169.254/latest/meta-data' } });
      assert.equal(meta.status, 422);
    } finally {
      await server.close();
    }
    // At fetch time the resolved address is checked (a name may resolve differently later).
    const client = new GuardedPollClient({ allowedNetworks: parseNetworks(''), timeoutMs: 2000, maxResponseBytes: 1024 });
    try {
      const viaName = await client.fetch({ url: `http://localhost:${api.port}/items`, method: 'GET', headers: {}, body: null });
      assert.equal(viaName.kind, 'error');
      assert.match((viaName as { reason: string }).reason, /not allowed: (127\.0\.0\.1|::1) is in a refused network \(loopback [^)]+\); set SWITCHBOARD_ALLOWED_NETWORKS=\S+ to allow it/);
      const literal = await client.fetch({ url: api.url('/items'), method: 'GET', headers: {}, body: null });
      assert.match((literal as { reason: string }).reason, /not allowed: 127\.0\.0\.1 is in a refused network \(loopback 127\.0\.0\.0\/8\); set SWITCHBOARD_ALLOWED_NETWORKS=127\.0\.0\.1\/32 to allow it/);
      assert.equal(api.requests.length, 0, 'the API was never reached');
    } finally {
      await client.close();
      await api.close();
    }
  });

  it('refuses a response larger than the limit', async () => {
    const api = await new StandInApi().start();
    api.set(Array.from({ length: 100 }, (_, i) => ({ id: i, name: 'x'.repeat(50), price: i })));
    const client = new GuardedPollClient({ allowedNetworks: parseNetworks('127.0.0.0/8'), timeoutMs: 2000, maxResponseBytes: 1024 });
    try {
      const r = await client.fetch({ url: api.url('/items'), method: 'GET', headers: {}, body: null });
      assert.deepEqual(r, { kind: 'error', reason: 'response is larger than 1024 bytes' });
    } finally {
      await client.close();
      await api.close();
    }
  });
});

describe('polling sources at shutdown', () => {
  it('a poll of an API that hangs is cut after the grace, not waited out until its timeout', { timeout: 30_000 }, async () => {
    const rx = await new Receiver().start();
    rx.on('/hangs', () => 'hang');
    // Polls time out after ten minutes; the test's server gives shutdown 200 ms of grace.
    const server = await startServer({ SWITCHBOARD_REQUEST_TIMEOUT_MS: '600000' });
    try {
      const r = await server.api('POST', '/ingest/api/v1/source', { name: 'hangs', type: 'poll', config: { url: rx.url('/hangs'), intervalSecs: 60 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await eventually(() => rx.at('/hangs').length === 1, 'the poll at the API');
    } finally {
      await server.close();
      await rx.close();
    }
  });
});

describe('cron sources', () => {
  let clock: FakeClock;
  let dataDir: string;
  let rx: Receiver;
  const start = Date.UTC(2025, 0, 1, 0, 0, 30);

  before(async () => {
    clock = new FakeClock(start);
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-cron-'));
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function boot(): Promise<{ sb: Switchboard; url: string; api: (m: string, p: string, b?: unknown) => Promise<any> }> {
    const config = loadConfig({
      SWITCHBOARD_PORT: '0',
      SWITCHBOARD_HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_DURABILITY: 'normal',
      SWITCHBOARD_SHUTDOWN_GRACE_MS: '200',
    });
    const sb = await createSwitchboard(config, { clock, logger: pino({ level: 'silent' }), sweepIntervalMs: 10 * DAY });
    const url = await sb.listen();
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    return { sb, url, api };
  }

  it('emits on schedule, once per tick, across a crash mid-run and a restart', async () => {
    let node = await boot();
    const created = await node.api('POST', '/ingest/api/v1/source', {
      name: 'every minute',
      type: 'cron',
      config: { schedule: '* * * * *', payload: '{"report":"daily"}' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    assert.deepEqual(created.body.config, { schedule: '* * * * *', payload: '{"report":"daily"}', contentType: null, eventType: 'cron.tick', timezone: 'UTC' });
    assert.equal(created.body.run.nextRunAt, '2025-01-01T00:01:00.000Z');
    await node.api('POST', `/ingest/api/v1/source/${id}/endpoint`, { url: rx.url('/cron') });
    const msgs = async () => (await node.api('GET', `/api/v1/app/${id}/msg`)).body.data as any[];

    clock.advance(30_000); // 00:01:00
    await eventually(async () => (await msgs()).length === 1, 'the first tick');
    const [first] = await msgs();
    assert.deepEqual(first.payload, { report: 'daily' });
    assert.equal(first.eventType, 'cron.tick');
    assert.equal(first.eventId, `cron.${Date.UTC(2025, 0, 1, 0, 1)}`);
    await eventually(() => rx.at('/cron').length === 1, 'the tick delivered');
    const r = await eventually(async () => {
      const s = (await node.api('GET', `/ingest/api/v1/source/${id}`)).body.run;
      return s.nextRunAt === '2025-01-01T00:02:00.000Z' ? s : null;
    }, 'the next tick scheduled');
    assert.equal(r.lastOutcome, 'emitted');

    // The 00:02 tick runs and publishes; then the node is made to look as if it died before recording the run.
    const store = node.sb.store;
    clock.advance(60_000); // 00:02:00
    const tick = Date.UTC(2025, 0, 1, 0, 2);
    await eventually(async () => (await msgs()).length === 2, 'the second tick');
    // Simulate the crash: the run state goes back to "leased, not finished" for the 00:02 tick.
    const db = (store as SqliteStore).db;
    db.prepare('UPDATE source_runs SET next_run_at = ?, tick_at = ?, running = 1 WHERE source_id = ?').run(clock.now() + 45_000, tick, id);
    await node.sb.close();

    // Restart on the same data: the orphaned lease is released, the tick runs again, and its
    // message is recognised as the one already published.
    node = await boot();
    await eventually(async () => {
      const s = (await node.api('GET', `/ingest/api/v1/source/${id}`)).body.run;
      return s.nextRunAt === '2025-01-01T00:03:00.000Z' && !s.running ? s : null;
    }, 'the retried tick finished');
    assert.equal((await msgs()).length, 2, 'the 00:02 tick emitted once');

    // And a plain restart does not fire a tick again either.
    await node.sb.close();
    node = await boot();
    clock.advance(60_000); // 00:03:00
    await eventually(async () => (await msgs()).length === 3, 'the third tick');
    assert.deepEqual((await msgs()).map((m) => m.eventId).sort(), [1, 2, 3].map((m) => `cron.${Date.UTC(2025, 0, 1, 0, m)}`));
    await node.sb.close();
  });

  it('refuses a bad schedule or payload', async () => {
    const node = await boot();
    try {
      const bad = await node.api('POST', '/ingest/api/v1/source', { name: 'bad', type: 'cron', config: { schedule: 'every day', payload: '{}' } });
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.detail[0].loc, ['body', 'config', 'schedule']);
      const notJson = await node.api('POST', '/ingest/api/v1/source', { name: 'bad', type: 'cron', config: { schedule: '0 * * * *', payload: 'hello' } });
      assert.equal(notJson.status, 422);
      const text = await node.api('POST', '/ingest/api/v1/source', { name: 'text', type: 'cron', config: { schedule: '0 * * * *', payload: 'hello', contentType: 'text/plain' } });
      assert.equal(text.status, 201);
    } finally {
      await node.sb.close();
    }
  });
});

/** Application statistics: the store contract on SQLite and the two routes over it. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/eventually.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';

describe('statistics routes', () => {
  let server: TestServer;
  let receiver: Receiver;
  let appId = '';
  let otherId = '';

  before(async () => {
    receiver = await new Receiver().start();
    receiver.on('/bad', (_r, res) => void res.writeHead(500).end('no'));
    server = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '3600' });
    appId = (await server.api('POST', '/api/v1/app', { name: 'stats' })).body.id;
    otherId = (await server.api('POST', '/api/v1/app', { name: 'other' })).body.id;
    await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: receiver.url('/good') });
    await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: receiver.url('/bad') });
    for (const eventType of ['a.one', 'a.one', 'b.two']) await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType, payload: {} });
    await eventually(() => receiver.received.length === 6, 'six deliveries');
    // Attempts are written in batches after the responses: wait until all six are recorded.
    await eventually(async () => (await server.api('GET', `/api/v1/app/${appId}/stats/attempts`)).body.total_failure >= 3, 'attempts recorded');
  });

  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('GET /stats/attempts counts by event type in the compatible shape', async () => {
    const r = await server.api('GET', `/api/v1/app/${appId}/stats/attempts`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.by_event_type, { 'a.one': { success: 2, failure: 2, canceled: 0 }, 'b.two': { success: 1, failure: 1, canceled: 0 } });
    assert.equal(r.body.total_success, 3);
    assert.equal(r.body.total_failure, 3);
    assert.equal(r.body.total_canceled, 0);
    const only = await server.api('GET', `/api/v1/app/${appId}/stats/attempts?event_types=b.two`);
    assert.deepEqual(Object.keys(only.body.by_event_type), ['b.two']);
    assert.equal(only.body.total_success, 1);
  });

  it('GET /stats/overview gives a series, latency and the queue (failed deliveries wait for their retry)', async () => {
    const until = new Date(Date.now() + 60_000).toISOString();
    const since = new Date(Date.now() - 3_540_000).toISOString();
    const r = await server.api('GET', `/api/v1/app/${appId}/stats/overview?since=${since}&until=${until}&bucket_seconds=60`);
    assert.equal(r.status, 200);
    assert.equal(r.body.series.length, 60);
    assert.equal(r.body.bucketSeconds, 60);
    assert.equal(r.body.totalSuccess, 3);
    assert.equal(r.body.totalFailure, 3);
    const busy = r.body.series.filter((b: any) => b.success + b.failure > 0);
    assert.ok(busy.length >= 1);
    for (const b of busy) assert.ok(b.avgDurationMs >= 0 && b.maxDurationMs >= b.avgDurationMs);
    for (const b of r.body.series.filter((x: any) => x.success + x.failure === 0)) assert.equal(b.avgDurationMs, null);
    assert.equal(r.body.queue.pending, 3, 'the three failed deliveries wait an hour for their retry');
    assert.ok(Date.parse(r.body.queue.oldestPendingAt) <= Date.now());
  });

  it('refuses bad windows with 422 and hides other applications from scoped tokens', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const q of [`since=${iso(now)}&until=${iso(now - 1000)}`, `since=${iso(now - 40 * 86_400_000)}&until=${iso(now)}`, `since=${iso(now - 86_400_000)}&until=${iso(now)}&bucket_seconds=60`, 'since=yesterday']) {
      const r = await server.api('GET', `/api/v1/app/${appId}/stats/overview?${q}`);
      assert.equal(r.status, 422, q);
      assert.ok(Array.isArray(r.body.detail), q);
    }
    const portal = await server.api('POST', `/api/v1/auth/app-portal-access/${appId}`, { readOnly: true });
    assert.equal(portal.status, 200);
    const as = (path: string) => fetch(server.url + path, { headers: { authorization: `Bearer ${portal.body.token}` } });
    assert.equal((await as(`/api/v1/app/${appId}/stats/overview`)).status, 200);
    assert.equal((await as(`/api/v1/app/${otherId}/stats/overview`)).status, 404);
    assert.equal((await as(`/api/v1/app/${otherId}/stats/attempts`)).status, 404);
  });
});

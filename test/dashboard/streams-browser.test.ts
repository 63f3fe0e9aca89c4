/**
 * The Streams pages in a real browser against an in-process server: a stream and its sinks
 * made through the API are listed with type, masked destination, status, position and batch
 * settings; disable/enable and replay act on the server; an empty attempts table; and a sink
 * in failure (answer of the sinks route replaced in the browser) shows its reason and retry.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { eventually } from '../helpers/eventually.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { CHROMIUM, skipWithoutBrowser } from '../helpers/requirements.js';

/** Screenshots go to a temp dir, or to SCREENSHOTS_DIR (e.g. docs/screenshots) when set. */
const shots = process.env.SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'switchboard-screens-'));

describe('dashboard streams pages', { skip: skipWithoutBrowser, timeout: 300_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let streamId = '';
  let rabbitId = '';
  let redisId = '';

  const ok = (r: { status: number; body: any }, what: string) => {
    assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  before(async () => {
    server = await startServer();
    streamId = ok(await server.api('POST', '/api/v1/stream', { name: 'Order events', uid: 'orders' }), 'stream').id;
    rabbitId = ok(
      await server.api('POST', `/api/v1/stream/${streamId}/sink`, {
        type: 'rabbitMq',
        config: { uri: 'amqp://guest:s3cret@127.0.0.1:5672', routingKey: 'orders' },
        batchSize: 25,
        // The one event waits for a fuller batch longer than these tests run, so the sink never
        // tries the (wrong) password and its status stays the one the tests set.
        maxWaitSecs: 300,
        eventTypes: ['order.created'],
      }),
      'rabbitMq sink',
    ).id;
    redisId = ok(await server.api('POST', `/api/v1/stream/${streamId}/sink`, { type: 'redis', config: { uri: 'redis://:pw@127.0.0.1:6379', streamKey: 'orders' } }), 'redis sink').id;
    ok(await server.api('POST', `/api/v1/stream/${streamId}/events`, { events: [{ eventType: 'order.created', payload: '{"id":1}' }] }), 'event');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('dialog', (d) => void d.accept());
    page.setDefaultTimeout(15_000);
    await page.goto(server.url + '/ui/');
    await page.getByLabel('Admin token or API key').fill(server.token);
    await page.getByLabel('Admin token or API key').press('Enter');
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists streams from the navigation and opens a stream with its sinks, credentials masked', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Streams' }).click();
    await page.getByRole('link', { name: 'Order events' }).click();
    await page.getByRole('heading', { name: 'Order events' }).waitFor();

    const rabbit = page.getByRole('region', { name: `Sink ${rabbitId}` });
    await rabbit.getByText('rabbitMq', { exact: true }).waitFor();
    assert.equal(await rabbit.getByTestId('destination').textContent(), 'amqp://guest:***@127.0.0.1:5672 · orders');
    await rabbit.getByText('enabled', { exact: true }).waitFor();
    assert.match((await rabbit.getAttribute('class')) ?? '', /card/);
    assert.match(await rabbit.getByText('enabled', { exact: true }).getAttribute('class') ?? '', /badge ok/);
    await rabbit.getByText('up to 25 events, waiting at most 300 s').waitFor();
    await rabbit.getByText('order.created').waitFor();
    await rabbit.getByText('No delivery attempts yet.').waitFor();

    const redis = page.getByRole('region', { name: `Sink ${redisId}` });
    await redis.getByText('redis', { exact: true }).waitFor();
    assert.equal(await redis.getByTestId('destination').textContent(), 'redis://:***@127.0.0.1:6379 · orders');
    const html = await page.content();
    assert.doesNotMatch(html, /s3cret|:pw@/);
  });

  it('disables and enables a sink, and replays it from a time', async () => {
    const rabbit = page.getByRole('region', { name: `Sink ${rabbitId}` });
    await rabbit.getByRole('button', { name: 'Disable' }).click();
    await rabbit.getByText('disabled', { exact: true }).waitFor();
    assert.match(await rabbit.getByText('disabled', { exact: true }).getAttribute('class') ?? '', /badge bad/);
    assert.equal((await server.api('GET', `/api/v1/stream/${streamId}/sink/${rabbitId}`)).body.status, 'disabled');
    await rabbit.getByRole('button', { name: 'Enable' }).click();
    await rabbit.getByText('enabled', { exact: true }).waitFor();
    assert.equal((await server.api('GET', `/api/v1/stream/${streamId}/sink/${rabbitId}`)).body.status, 'enabled');

    // Move the sink past the event, then replay from an hour ago: it is back before the event.
    ok(await server.api('POST', `/api/v1/stream/${streamId}/sink/${rabbitId}/replay`, { iterator: '999' }), 'move forward');
    const before = (await server.api('GET', `/api/v1/stream/${streamId}/sink/${rabbitId}`)).body.currentIterator;
    const hourAgo = new Date(Date.now() - 3_600_000);
    const local = new Date(hourAgo.getTime() - hourAgo.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await rabbit.getByLabel('Replay from', { exact: true }).fill(local);
    await rabbit.getByRole('button', { name: 'Replay' }).click();
    await rabbit.getByRole('status').waitFor();
    await eventually(async () => (await server.api('GET', `/api/v1/stream/${streamId}/sink/${rabbitId}`)).body.currentIterator !== before, 'cursor moved back');
  });

  it('shows a failing sink in colour with its reason and next retry', async () => {
    const sinksPath = `**/api/v1/stream/${streamId}/sink?*`;
    await page.route(sinksPath, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      for (const s of body.data) if (s.id === redisId) Object.assign(s, { status: 'retrying', failureReason: 'ECONNREFUSED 127.0.0.1:6379', nextRetryAt: new Date(Date.now() + 30_000).toISOString() });
      await route.fulfill({ response: res, json: body });
    });
    await page.reload();
    const redis = page.getByRole('region', { name: `Sink ${redisId}` });
    await redis.getByTestId('failure').getByText('ECONNREFUSED 127.0.0.1:6379').waitFor();
    assert.match(await redis.getByText('retrying', { exact: true }).getAttribute('class') ?? '', /badge warn/);
    await redis.getByText('Next retry').waitFor();
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'stream.png'), fullPage: true });
    await page.unroute(sinksPath);
  });
});

/**
 * The dashboard and the consumer portal in a real browser (Debian's Chromium driven by
 * playwright-core) against an in-process server and a real receiver.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { newId } from '../../src/domain/ids.js';
import { eventually } from '../helpers/eventually.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';
import { CHROMIUM, skipWithoutBrowser } from '../helpers/requirements.js';

// Names of the page's globals, for callbacks that run in the browser (this file is compiled without the DOM library).
declare const document: any;
declare const window: any;
declare const sessionStorage: any;

// CI installs Chromium (.ci/run); elsewhere the suite is skipped without it rather than failing.
const skip = skipWithoutBrowser;

/** Screenshots go to a temp dir, or to SCREENSHOTS_DIR (e.g. docs/screenshots) when set. */
const shots = process.env.SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'switchboard-screens-'));
const WAIT = 15_000;

describe('web dashboard and consumer portal', { skip, timeout: 600_000 }, () => {
  let server: TestServer;
  let receiver: Receiver;
  let browser: Browser;
  let operator: BrowserContext;
  let page: Page;
  /** A separate browser context (its own storage) for the consumer portal. */
  let portal: Page;
  let appA: { id: string };
  let appB: { id: string };
  let endpointId = '';

  /** Opens a path in the already loaded app (as a click on a link would), or loads it when the app is not there. */
  const visit = async (p: Page, path: string) => {
    const base = path.startsWith('/portal') ? '/portal' : '/ui';
    if (!new URL(p.url()).pathname.startsWith(base)) return void (await p.goto(server.url + path));
    await p.evaluate(async (to) => {
      window.history.pushState(null, '', to);
      window.dispatchEvent(new Event('switchboard:navigate'));
      // The new page is rendered by the next frame.
      await new Promise((r) => window.requestAnimationFrame(() => r(undefined)));
    }, path);
  };

  const shot = async (p: Page, name: string) => {
    mkdirSync(shots, { recursive: true });
    await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };

  before(async () => {
    receiver = await new Receiver().start();
    server = await startServer();
    const ok = (r: { status: number; body: any }, what: string) => {
      assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    ok(
      await server.api('POST', '/api/v1/event-type', {
        name: 'invoice.paid',
        description: 'An invoice was paid',
        schemas: { '1': { type: 'object', properties: { invoice: { type: 'string' } }, examples: [{ invoice: 'inv_example', amount: 4200 }] } },
      }),
      'event type',
    );
    ok(await server.api('POST', '/api/v1/event-type', { name: 'user.created', description: 'A user signed up' }), 'event type');
    appA = ok(await server.api('POST', '/api/v1/app', { name: 'Acme Corp', uid: 'acme' }), 'app A');
    appB = ok(await server.api('POST', '/api/v1/app', { name: 'Globex Secret', uid: 'globex' }), 'app B');
    ok(await server.api('POST', `/api/v1/app/${appB.id}/endpoint`, { url: receiver.url('/globex'), description: 'globex only' }), 'endpoint B');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    operator = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await operator.newPage();
    page.on('dialog', (d) => void d.accept());
    page.setDefaultTimeout(WAIT);
    portal = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    portal.setDefaultTimeout(WAIT);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  it('signs in with the admin token (a wrong one is refused) and lists applications', async () => {
    await page.goto(server.url + '/');
    assert.match(page.url(), /\/ui\/$/);
    const token = page.getByLabel('Admin token or API key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Paste a token to sign in.').waitFor();
    await token.fill('not-the-token');
    await token.press('Enter');
    await page.getByText('That token is not valid or has expired.').waitFor();
    await token.fill(server.token);
    await token.press('Enter');
    await page.getByRole('link', { name: 'Acme Corp' }).waitFor();
    await page.getByRole('link', { name: 'Globex Secret' }).waitFor();
    await shot(page, 'applications');
  });

  it('creates an endpoint through the form, with URL validation feedback', async () => {
    await page.getByRole('link', { name: 'Acme Corp' }).click();
    await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByText('No endpoints yet').waitFor();
    await page.getByRole('link', { name: 'Add endpoint' }).click();

    const url = page.getByLabel('Endpoint URL');
    await url.fill('not a url');
    await url.blur();
    await page.getByText('This is not a valid URL').waitFor();
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    await url.fill('ftp://example.com/hook');
    await page.getByText('The URL must start with https://').waitFor();
    // Private addresses pass the browser's check and are refused by the server.
    await url.fill('http://10.20.30.40/hook');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByText('The server refuses this address').waitFor();

    await url.fill(receiver.url('/acme'));
    await page.getByLabel('Description').fill('Billing service');
    await page.getByRole('checkbox', { name: 'invoice.paid' }).check();
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Team');
    await page.getByLabel('Header 1 value').fill('blue');
    await page.getByLabel('Rate limit (messages per second, optional)').fill('50');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByRole('heading', { name: receiver.url('/acme') }).waitFor();

    const list = await server.api('GET', `/api/v1/app/${appA.id}/endpoint`);
    assert.equal(list.body.data.length, 1);
    const ep = list.body.data[0];
    endpointId = ep.id;
    assert.deepEqual(ep.filterTypes, ['invoice.paid']);
    assert.equal(ep.rateLimit, 50);
    assert.equal(ep.description, 'Billing service');
    const headers = await server.api('GET', `/api/v1/app/${appA.id}/endpoint/${ep.id}/headers`);
    assert.equal(headers.body.headers['X-Team'] ?? headers.body.headers['x-team'], 'blue');
  });

  it('sends a test event, shows the attempt without a reload, and resends it', async () => {
    await page.getByLabel('Event type').selectOption('invoice.paid');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await eventually(() => receiver.at('/acme').length >= 1, 'the test event', { timeoutMs: WAIT });
    const first = receiver.at('/acme')[0]!;
    assert.equal(first.headers['x-team'], 'blue');
    assert.deepEqual(JSON.parse(first.body), { invoice: 'inv_example', amount: 4200 });
    // The attempts table refreshes itself.
    const attempts = page.getByTestId('endpoint-attempts');
    await attempts.getByText('Succeeded').waitFor();
    await attempts.getByRole('cell', { name: '200', exact: true }).waitFor();
    await shot(page, 'endpoint');

    await attempts.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Payload' }).waitFor();
    await page.getByText('inv_example').waitFor();
    const list = page.getByTestId('attempts');
    await list.getByRole('listitem').first().waitFor();
    assert.equal(await list.getByRole('listitem').count(), 1);
    await list.getByRole('button').first().click();
    await page.getByTestId('attempt-status-code').getByText('200').waitFor();
    await page.getByRole('table', { name: 'Request headers' }).getByText('webhook-id').waitFor();
    await page.getByRole('table', { name: 'Request headers' }).getByText('blue').waitFor();

    await page.getByRole('button', { name: 'Resend' }).click();
    await eventually(() => receiver.at('/acme').length >= 2, 'the resend', { timeoutMs: WAIT });
    assert.equal(receiver.at('/acme')[1]!.headers['webhook-id'], first.headers['webhook-id']);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="attempts"] > li').length === 2, undefined, { timeout: WAIT });
    await page.getByText('manual').waitFor();
    await shot(page, 'message');
  });

  it('shows why an attempt failed, links the failure to its resend, and offers event types seen in messages', async () => {
    receiver.on('/failing', (_req, res) => {
      res.statusCode = 503;
      res.end('database is down for maintenance');
    });
    const failing = await server.api('POST', `/api/v1/app/${appB.id}/endpoint`, { url: receiver.url('/failing') });
    assert.equal(failing.status, 201);
    // Published with a type nobody defined: the endpoint form still offers it.
    assert.equal((await server.api('POST', `/api/v1/app/${appB.id}/msg`, { eventType: 'order.shipped', payload: { order: 'o_1' } })).status, 202);
    await eventually(() => receiver.at('/failing').length >= 1, 'the failing attempt', { timeoutMs: WAIT });

    await visit(page, `/ui/app/${appB.id}/endpoints/${failing.body.id}`);
    const reason = page.getByTestId('endpoint-attempts').getByTestId('attempt-reason').first();
    await reason.getByText('HTTP 503: database is down for maintenance').waitFor();
    await page.getByTestId('attempt-resend-link').first().click();
    await page.getByRole('button', { name: 'Resend' }).first().waitFor();
    await page.getByTestId('attempt-head-reason').first().getByText('HTTP 503: database is down').waitFor();

    await visit(page, `/ui/app/${appB.id}/endpoints/new`);
    await page.getByRole('checkbox', { name: 'order.shipped' }).waitFor();
    await page.getByText('(published, not defined)').first().waitFor();
  });

  it('reveals and rotates the secret, disables and enables the endpoint', async () => {
    await visit(page, `/ui/app/${appA.id}/endpoints/${endpointId}`);
    await page.getByTestId('endpoint-circuit').getByText('closed').first().waitFor();
    await page.getByRole('button', { name: 'Reveal' }).click();
    const secret = (await server.api('GET', `/api/v1/app/${appA.id}/endpoint/${endpointId}/secret`)).body.key as string;
    await page.getByTestId('secret').getByText(secret).waitFor();
    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.getByText('Secret rotated.').waitFor();
    const rotated = (await server.api('GET', `/api/v1/app/${appA.id}/endpoint/${endpointId}/secret`)).body.key as string;
    assert.notEqual(rotated, secret);
    await page.getByTestId('secret').getByText(rotated).waitFor();

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    assert.equal((await server.api('GET', `/api/v1/app/${appA.id}/endpoint/${endpointId}`)).body.disabled, true);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    assert.equal((await server.api('GET', `/api/v1/app/${appA.id}/endpoint/${endpointId}`)).body.disabled, false);

    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText('are being sent again').waitFor();
  });

  it('edits the endpoint, keeping its headers', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    const description = page.getByLabel('Description');
    await description.waitFor();
    assert.equal(await description.inputValue(), 'Billing service');
    assert.equal(await page.getByLabel('Header 1 value').inputValue(), 'blue');
    await description.fill('Billing service v2');
    await page.getByLabel('Header 1 value').fill('green');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Billing service v2').waitFor();
    await page.getByText('X-Team: green').waitFor();
    const headers = await server.api('GET', `/api/v1/app/${appA.id}/endpoint/${endpointId}/headers`);
    assert.deepEqual(Object.values(headers.body.headers), ['green']);
  });

  it('searches the message log by event id and event type, and shows new messages live', async () => {
    await visit(page, `/ui/app/${appA.id}/messages`);
    await page.getByTestId('messages').waitFor();
    const sent = await server.api('POST', `/api/v1/app/${appA.id}/msg`, { eventType: 'user.created', eventId: 'evt-live-1', payload: { user: 'ada' } });
    assert.equal(sent.status, 202);
    await page.getByTestId('messages').getByText('evt-live-1').waitFor();

    await page.getByLabel('Message or event id').fill('evt-live-1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('messages').getByText('evt-live-1').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="messages"] tbody tr').length === 1, undefined, { timeout: WAIT });

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Event type').selectOption('invoice.paid');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="messages"] tbody tr')].every((r: any) => r.textContent?.includes('invoice.paid')),
      undefined,
      { timeout: WAIT },
    );
    await page.getByLabel('Delivery status').selectOption('0');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('messages').getByText('Succeeded').first().waitFor();
    await page.getByLabel('Message or event id').fill('no-such-event');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No messages match').waitFor();
  });

  it('shows the overview with success rate, charts and queue depth', async () => {
    await visit(page, `/ui/app/${appA.id}`);
    await page.getByTestId('success-rate').getByText('100%').waitFor();
    assert.equal(await page.getByTestId('queue-depth').textContent(), '0');
    assert.equal(await page.locator('figure.chart svg').count(), 2);
    await page.getByRole('button', { name: 'Last day' }).click();
    await page.getByTestId('success-rate').getByText('100%').waitFor();
    await page.getByRole('table').getByText(receiver.url('/acme')).waitFor();
    await shot(page, 'overview');
  });

  it('lists event types with their schemas', async () => {
    await visit(page, `/ui/event-types`);
    await page.getByText('invoice.paid').first().waitFor();
    await page.getByRole('button', { name: 'Schema' }).first().click();
    await page.getByLabel('Schema version 1 of invoice.paid').waitFor();
  });

  it('creates a polling endpoint, shows its token and tails it live', async () => {
    await visit(page, `/ui/app/${appA.id}/pollers`);
    await page.locator('[data-testid="not-available"], .state.empty').first().waitFor();
    if ((await page.getByTestId('not-available').count()) > 0) return; // a server without the pull API
    await page.getByRole('button', { name: 'New polling endpoint' }).click();
    await page.getByLabel('Description').fill('Nightly batch');
    await page.getByRole('button', { name: 'Create polling endpoint' }).click();
    const card = page.getByRole('listitem').filter({ hasText: 'Nightly batch' });
    await card.getByRole('button', { name: 'Show token' }).click();
    await card.locator('code').filter({ hasNotText: '•' }).waitFor();
    await card.getByRole('button', { name: 'Live tail' }).click();
    await card.getByRole('region', { name: 'Live tail' }).waitFor();
    const sent = await server.api('POST', `/api/v1/app/${appA.id}/msg`, { eventType: 'user.created', payload: { user: 'tail' } });
    await card.getByText(sent.body.id).waitFor();
    await card.getByRole('button', { name: 'Stop live tail' }).click();
  });

  it('creates an ingest source, lists the requests it rejected with the reason, and shows a cron source status', async () => {
    await visit(page, `/ui/sources`);
    await page.locator('[data-testid="not-available"], .state.empty, ul.rows').first().waitFor();
    if ((await page.getByTestId('not-available').count()) > 0) return; // a server without the ingest API
    await page.getByRole('button', { name: 'New source' }).click();
    await page.getByLabel('Name').fill('GitHub repo');
    await page.getByLabel('Type').selectOption('github');
    await page.getByLabel('Configuration (JSON)').fill('{ "secret": "not json');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByText('Not valid JSON').waitFor();
    await page.getByLabel('Configuration (JSON)').fill('{ "secret": "octo-secret" }');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'GitHub repo' }).waitFor();
    await page.getByRole('heading', { name: 'Rejected requests' }).waitFor();
    await page.getByText('No rejected requests').waitFor();
    await page.getByLabel('Forward to URL').fill(receiver.url('/from-github'));
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText(receiver.url('/from-github')).waitFor();
    // A consumer-portal link for the source's own endpoints and messages.
    await page.getByRole('button', { name: 'Create portal link' }).click();
    assert.match((await page.getByTestId('portal-url').getAttribute('href')) ?? '', /\/portal#token=/);

    const sources = (await server.api('GET', '/ingest/api/v1/source')).body.data;
    const src = sources.find((s: any) => s.name === 'GitHub repo');
    assert.ok(src?.ingestUrl, 'the source has an ingest URL');
    await page.getByText(src.ingestUrl).waitFor();
    const refused = await fetch(server.url + new URL(src.ingestUrl).pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=' + '0'.repeat(64), 'x-github-event': 'push' },
      body: '{"ref":"main"}',
    });
    assert.equal(refused.status, 401);
    // The log refreshes itself and gives the reason.
    await page.getByTestId('rejected').getByText('X-Hub-Signature-256 does not match').waitFor();
    await page.getByTestId('rejected').getByRole('button').first().click();
    await page.getByLabel('Request body').getByText('"ref": "main"').waitFor();

    const cron = await server.api('POST', '/ingest/api/v1/source', { name: 'Nightly report', type: 'cron', config: { schedule: '0 3 * * *', payload: '{"report":true}' } });
    assert.equal(cron.status, 201, JSON.stringify(cron.body));
    await visit(page, `/ui/sources/${cron.body.id}`);
    await page.getByTestId('source-status').getByText('Next run at').waitFor();
    await shot(page, 'source');
  });

  it('lists background tasks with their status, kind, progress and result, reached from the navigation and filtered', async () => {
    const started = async (method: string, path: string, body: unknown): Promise<string> => {
      const r = await server.api(method, path, body);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      return r.body.id;
    };
    const types = await started('PUT', '/api/v1/stats/usage/event-types', {});
    const stats = await started('POST', '/api/v1/stats/usage/app', { since: new Date(Date.now() - 3600_000).toISOString(), until: new Date().toISOString(), appIds: [appA.id] });
    await visit(page, '/ui/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
    await page.getByRole('heading', { name: 'Background tasks' }).waitFor();
    const table = page.getByTestId('background-tasks');
    const row = (id: string) => table.locator(`tr[data-task="${id}"]`);
    // The page refreshes itself until both have ended.
    await row(types).getByText('finished').waitFor();
    await row(types).getByText('Event types seen').waitFor();
    await row(types).getByText('Done').waitFor();
    await row(types).getByText(/"eventTypes":\[/).waitFor();
    await row(stats).getByText('Usage per application').waitFor();
    await row(stats).getByText(new RegExp(`"appId":"${appA.id}"`)).waitFor();
    // A bulk replay another node is running shows how far it is and its counters so far.
    const now = Date.now();
    const replaying = newId('task', now);
    await server.sb.store.backgroundTasks.create({
      id: replaying,
      task: 'endpoint.bulk-replay',
      status: 'running',
      appId: appA.id,
      params: {},
      data: { replayed: 120, progress: { done: 150, total: 600 } },
      checkpoint: null,
      owner: 'another-node',
      leaseUntil: now + 3600_000,
      createdAt: now,
      updatedAt: now,
    });
    await row(replaying).getByText('running', { exact: true }).waitFor();
    await row(replaying).getByText('150 of 600').waitFor();
    assert.equal(await row(replaying).getByRole('progressbar', { name: 'Progress' }).getAttribute('value'), '150');
    await row(replaying).getByText('{"replayed":120}').waitFor();
    await shot(page, 'tasks');

    await page.getByLabel('Kind').selectOption('event-type.aggregate');
    await row(stats).waitFor({ state: 'detached' });
    // The filtered list may still be loading when the other row goes: wait for this one's row.
    await row(types).waitFor();
    assert.equal(await row(types).count(), 1);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No background tasks').waitFor();
  });

  /** Creates a portal link from the Applications page and returns its URL. */
  async function portalLink(readOnly: boolean): Promise<string> {
    await visit(page, `/ui/`);
    const row = page.getByRole('listitem').filter({ hasText: 'Acme Corp' });
    const box = row.getByRole('checkbox', { name: 'Read-only' });
    if (readOnly) await box.check();
    else await box.uncheck();
    const link = row.getByTestId('portal-url');
    // A link made earlier may still be shown (the page keeps its state): wait for the new one.
    const before = (await link.count()) > 0 ? await link.getAttribute('href') : null;
    await row.getByRole('button', { name: 'Create portal link' }).click();
    return eventually(async () => {
      const href = (await link.count()) > 0 ? await link.getAttribute('href') : null;
      return href !== before ? href : null;
    }, 'the new portal link', { timeoutMs: WAIT });
  }

  it('opens a portal link that reaches its one application only', async () => {
    const link = await portalLink(false);
    assert.match(link, /\/portal#token=/);
    {
      await portal.goto(server.url + new URL(link).pathname + new URL(link).hash);
      await portal.getByRole('heading', { name: 'Overview' }).waitFor();
      assert.ok(portal.url().includes(`/portal/app/${appA.id}`), portal.url());
      assert.ok(!portal.url().includes('token='), 'the token leaves the address bar');
      assert.equal(await portal.getByRole('link', { name: 'Applications' }).count(), 0);
      assert.equal(await portal.getByRole('link', { name: 'Sources' }).count(), 0);
      await portal.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Endpoints', exact: true }).click();
      await portal.getByRole('link', { name: receiver.url('/acme') }).waitFor();
      await portal.getByRole('link', { name: 'Add endpoint' }).waitFor();
      await shot(portal, 'portal');

      // Another application's pages, by id or uid, show nothing of it.
      for (const other of [appB.id, 'globex']) {
        // The first by typing the address (a full load), the second by navigating in the app.
        if (other === appB.id) await portal.goto(`${server.url}/portal/app/${other}/endpoints`);
        else await visit(portal, `/portal/app/${other}/endpoints`);
        await portal.getByText('Application not found').waitFor();
        assert.equal(await portal.getByText('Globex').count(), 0);
        assert.equal(await portal.getByText(receiver.url('/globex')).count(), 0);
      }
      // And the token itself is refused there by the server.
      const status = await portal.evaluate(async (id) => {
        const token = sessionStorage.getItem('switchboard.portal.token');
        const r = await fetch(`/api/v1/app/${id}/endpoint`, { headers: { authorization: `Bearer ${token}` } });
        return r.status;
      }, appB.id);
      assert.equal(status, 404);
    }
  });

  it('honours a read-only portal link', async () => {
    const link = await portalLink(true);
    {
      await portal.goto(link.replace(/^https?:\/\/[^/]+/, server.url));
      await portal.getByText('Read-only').first().waitFor();
      await visit(portal, `/portal/app/${appA.id}/endpoints`);
      await portal.getByRole('link', { name: receiver.url('/acme') }).click();
      await portal.getByRole('heading', { name: 'Latest attempts' }).waitFor();
      for (const name of ['Edit', 'Disable', 'Delete', 'Rotate', 'Send test event', 'Recover']) {
        assert.equal(await portal.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`);
      }
      assert.equal(await portal.getByRole('link', { name: 'Edit' }).count(), 0);
      await visit(portal, `/portal/app/${appA.id}/endpoints/new`);
      await portal.getByText('Read-only access').waitFor();
      const status = await portal.evaluate(
        async ([app, ep]) => {
          const token = sessionStorage.getItem('switchboard.portal.token');
          const r = await fetch(`/api/v1/app/${app}/endpoint/${ep}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ disabled: true }),
          });
          return r.status;
        },
        [appA.id, endpointId],
      );
      assert.equal(status, 403);
    }
  });

  it('fits a narrow screen', async () => {
    const narrow = page;
    await narrow.setViewportSize({ width: 360, height: 800 });
    try {
      const msgs = (await server.api('GET', `/api/v1/app/${appA.id}/msg?event_types=invoice.paid`)).body.data;
      for (const path of [`/ui/app/${appA.id}`, `/ui/app/${appA.id}/endpoints/${endpointId}`, `/ui/app/${appA.id}/messages/${msgs[0].id}`]) {
        await visit(narrow, path);
        await narrow.locator('h1').first().waitFor();
        await narrow.locator('.state.loading').first().waitFor({ state: 'detached' });
        const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${path} scrolls sideways by ${overflow}px`);
      }
      await shot(narrow, 'narrow-message');
      await visit(narrow, `/ui/app/${appA.id}`);
      await narrow.getByTestId('success-rate').waitFor();
      await shot(narrow, 'narrow-overview');
    } finally {
      await narrow.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('is usable from the keyboard', async () => {
    await page.goto(`${server.url}/ui/app/${appA.id}/endpoints`);
    await page.getByRole('link', { name: receiver.url('/acme') }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    // Every form control on the endpoint form has an accessible name.
    await visit(page, `/ui/app/${appA.id}/endpoints/new`);
    await page.getByLabel('Endpoint URL').waitFor();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')].filter((el: any) => {
        const e = el;
        return !(e.labels?.length || e.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent?.trim()));
      }).length,
    );
    assert.equal(unlabelled, 0);
  });
});

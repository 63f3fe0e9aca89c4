/**
 * Tenant isolation, proven over the whole route table: every route registered on the
 * server (collected as routes are added, so routes added later are walked too) is called
 * with credentials scoped to application A (an API key, an app-portal token and an OAuth
 * access token) against the ids of application B.
 *
 * - With B's application in the path: 404, exactly as for an application that does not exist.
 * - With A's application and B's endpoint, message or attempt ids: the same answer as for
 *   ids that do not exist.
 * - Routes outside applications: 403 when they need an organisation admin; the others
 *   (public, or open to any credential) never show any of B's data.
 * - Control: the same credentials read A's own resources on every GET route.
 * - Afterwards B's data is unchanged.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteEntry } from '../../src/http/auth.js';
import { newId } from '../../src/domain/ids.js';
import type { IdKind } from '../../src/domain/ids.js';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { createApp, createKey, oauthToken, portalToken } from '../helpers/security.js';
import { paramsOf, pathOf, sample } from '../helpers/route-walk.js';

interface Tenant {
  app: string;
  uid: string;
  endpoint: string;
  endpointUid: string;
  message: string;
  eventId: string;
  attempt: string;
  secret: string;
  marker: string;
  pollingEndpoint: string;
  pollerToken: string;
}

/** Path parameters this test knows how to fill, by name, with the id kind of a fresh look-alike. */
const KNOWN: Record<string, { of: (t: Tenant) => string; kind: IdKind | null }> = {
  app_id: { of: (t) => t.app, kind: 'application' },
  endpoint_id: { of: (t) => t.endpoint, kind: 'endpoint' },
  msg_id: { of: (t) => t.message, kind: 'message' },
  attempt_id: { of: (t) => t.attempt, kind: 'attempt' },
  polling_endpoint_id: { of: (t) => t.pollingEndpoint, kind: 'pollingEndpoint' },
  sink_id: { of: (t) => t.pollingEndpoint, kind: 'pollingEndpoint' },
};

const EVENT_TYPE = 'walk.event';

describe('tenant isolation over every route', () => {
  let server: TestServer;
  let rx: Receiver;
  let A: Tenant;
  let B: Tenant;
  let routes: RouteEntry[];
  let credentials: { name: string; token: string }[] = [];

  /** Fresh A-scoped credentials (a walk logs the portal token out on its last route). */
  async function scopedToA(): Promise<{ name: string; token: string }[]> {
    return [
      { name: 'API key', token: (await createKey(server, ['read', 'write', 'publish'], A.app)).key },
      { name: 'app-portal token', token: await portalToken(server, A.app) },
      { name: 'OAuth access token', token: (await oauthToken(server, ['read', 'write', 'publish'], A.app)).token },
      { name: 'poller token', token: A.pollerToken },
    ];
  }

  async function tenant(name: string): Promise<Tenant> {
    const uid = `walk-${name}-${Math.random().toString(36).slice(2)}`;
    const app = await createApp(server, name, uid);
    const endpointUid = `ep-${name}-${Math.random().toString(36).slice(2)}`;
    const ep = await server.api('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url(`/walk-${name}`), uid: endpointUid });
    assert.equal(ep.status, 201);
    const secret = (await server.api('GET', `/api/v1/app/${app}/endpoint/${ep.body.id}/secret`)).body.key as string;
    const marker = `tenant-${name}-secret-payload-${Math.random().toString(36).slice(2)}`;
    const eventId = `evt-${name}-${Math.random().toString(36).slice(2)}`;
    const msg = await server.api('POST', `/api/v1/app/${app}/msg`, { eventType: EVENT_TYPE, eventId, payload: { marker } });
    assert.equal(msg.status, 202);
    await eventually(() => rx.at(`/walk-${name}`).length > 0, 'delivery');
    const attempt: string = (await attemptsOf(server, app, msg.body.id))[0]?.id ?? '';
    assert.ok(attempt, 'an attempt was recorded');
    const pe = await server.api('POST', `/api/v1/app/${app}/polling-endpoint`, {});
    assert.equal(pe.status, 201);
    const pt = await server.api('GET', `/api/v1/auth/app/${app}/poller/${pe.body.id}/token`);
    assert.equal(pt.status, 200);
    return { app, uid, endpoint: ep.body.id, endpointUid, message: msg.body.id, eventId, attempt, secret, marker, pollingEndpoint: pe.body.id, pollerToken: pt.body.token };
  }

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    assert.equal((await server.api('POST', '/api/v1/event-type', { name: EVENT_TYPE, description: 'walk' })).status, 201);
    A = await tenant('a');
    B = await tenant('b');
    // Logging out ends the calling token: walked last.
    const isLogout = (r: RouteEntry) => (r.url === '/api/v1/auth/logout' ? 1 : 0);
    routes = [...server.sb.auth.routes()].sort((x, y) => isLogout(x) - isLogout(y));
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  /** Fills a parameter with tenant `t`'s id, or a made-up one for kinds this test does not know. */
  const fillWith = (t: Tenant | null) => (p: string): string => {
    if (p === 'event_type_name') return EVENT_TYPE;
    const known = KNOWN[p];
    if (!known) return `walk_${p}_0000000000000000000000`;
    return t ? known.of(t) : known.kind ? newId(known.kind) : 'walk-missing';
  };

  async function send(r: RouteEntry, path: string, token: string): Promise<{ status: number; text: string }> {
    const method = r.method;
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? JSON.stringify(sample(r.schema?.body) ?? {}) : undefined;
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    // Streams (SSE) answer and then stay open: the status and first bytes are enough.
    const type = res.headers.get('content-type') ?? '';
    let text = '';
    if (type.includes('event-stream')) await res.body?.cancel();
    else text = await res.text();
    return { status: res.status, text };
  }

  /** B's values that must never show in an answer to A (those sent in the request itself aside). */
  function leaks(text: string, sentPath: string): string[] {
    const secrets = [B.app, B.uid, B.endpoint, B.endpointUid, B.message, B.eventId, B.attempt, B.secret, B.marker, `/walk-b`, B.pollingEndpoint, B.pollerToken];
    return secrets.filter((s) => !sentPath.includes(encodeURIComponent(s)) && text.includes(s));
  }

  it('collects every route, those added by any feature included', () => {
    assert.ok(routes.length >= 40, `routes found: ${routes.length}`);
    const urls = new Set(routes.map((r) => r.url));
    for (const u of ['/api/v1/app/:app_id', '/api/v1/app/:app_id/endpoint/:endpoint_id', '/api/v1/api-key', '/api/v1/auth/app-portal-access/:app_id', '/oauth/token']) {
      assert.ok(urls.has(u), `${u} is in the table`);
    }
  });

  it("answers 404 for B's application on every application route, for every A-scoped credential", async () => {
    const failures: string[] = [];
    let walked = 0;
    credentials = await scopedToA();
    for (const [n, c] of credentials.entries()) {
      // HEAD runs GET's handler and hooks: walked with the first credential only.
      for (const r of routes.filter((x) => n === 0 || x.method !== 'HEAD')) {
        const params = paramsOf(r.url);
        const path = pathOf(r.url, fillWith(B));
        const got = await send(r, path, c.token);
        walked++;
        let expected: number | null = null;
        if (params.includes('app_id') && r.access !== 'public') expected = 404;
        else if (r.access === 'admin' || r.access === 'poller') expected = 403;
        if (expected !== null && got.status !== expected) failures.push(`${c.name}: ${r.method} ${r.url} -> ${got.status}, expected ${expected}`);
        if (got.status >= 500) failures.push(`${c.name}: ${r.method} ${r.url} -> ${got.status}`);
        const leaked = leaks(got.text, path);
        if (leaked.length > 0) failures.push(`${c.name}: ${r.method} ${r.url} shows B's ${leaked.join(', ')}`);
        // B's uid in place of its id: the same answer.
        if (expected === 404 && n === 0) {
          const byUid = await send(r, pathOf(r.url, (p) => (p === 'app_id' ? B.uid : fillWith(B)(p))), c.token);
          if (byUid.status !== 404) failures.push(`${c.name}: ${r.method} ${r.url} with B's uid -> ${byUid.status}`);
        }
      }
    }
    assert.ok(walked >= routes.filter((x) => x.method !== 'HEAD').length * credentials.length);
    assert.deepEqual(failures, []);
  });

  it("treats B's endpoint, message and attempt ids under A's application exactly like ids that do not exist", async () => {
    const failures: string[] = [];
    // An application credential and a poller token: the two ways a principal is tied to an application.
    for (const c of (await scopedToA()).filter((x) => x.name === 'API key' || x.name === 'poller token')) {
      for (const r of routes.filter((x) => x.method !== 'HEAD')) {
        const params = paramsOf(r.url);
        if (!params.includes('app_id') || params.length < 2) continue;
        const withB = pathOf(r.url, (p) => (p === 'app_id' ? A.app : fillWith(B)(p)));
        const withNone = pathOf(r.url, (p) => (p === 'app_id' ? A.app : fillWith(null)(p)));
        const got = await send(r, withB, c.token);
        const baseline = await send(r, withNone, c.token);
        if (got.status !== baseline.status) failures.push(`${c.name}: ${r.method} ${r.url} -> ${got.status} with B's ids, ${baseline.status} with unknown ids`);
        if (got.status >= 200 && got.status < 300 && r.method !== 'PUT' && r.method !== 'POST') failures.push(`${c.name}: ${r.method} ${r.url} -> ${got.status} on B's ids`);
        const leaked = leaks(got.text, withB);
        if (leaked.length > 0) failures.push(`${c.name}: ${r.method} ${r.url} shows B's ${leaked.join(', ')}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it("control: the same credentials read A's own resources on every GET route whose parameters are known", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const c of (await scopedToA()).filter((x) => x.name !== 'poller token')) {
      for (const r of routes) {
        const params = paramsOf(r.url);
        if (r.method !== 'GET' || !r.url.startsWith('/api/v1/app/:app_id') || !params.every((p) => KNOWN[p])) continue;
        const got = await send(r, pathOf(r.url, fillWith(A)), c.token);
        checked++;
        if (got.status < 200 || got.status >= 300) failures.push(`${c.name}: GET ${r.url} -> ${got.status}`);
      }
    }
    assert.ok(checked >= 10 * credentials.length, `GET routes checked: ${checked}`);
    assert.deepEqual(failures, []);
  });

  it('a poller token reads its own polling endpoint and nothing else of its application', async () => {
    const other = await server.api('POST', `/api/v1/app/${A.app}/polling-endpoint`, {});
    const own = await fetch(`${server.url}/api/v1/app/${A.app}/poller/${A.pollingEndpoint}`, { headers: { authorization: `Bearer ${A.pollerToken}` } });
    assert.equal(own.status, 200);
    const sibling = await fetch(`${server.url}/api/v1/app/${A.app}/poller/${other.body.id}`, { headers: { authorization: `Bearer ${A.pollerToken}` } });
    assert.equal(sibling.status, 404, "another polling endpoint of the same application looks absent");
    for (const path of [`/api/v1/app/${A.app}`, `/api/v1/app/${A.app}/msg`, `/api/v1/app/${A.app}/endpoint`]) {
      const r = await fetch(server.url + path, { headers: { authorization: `Bearer ${A.pollerToken}` } });
      assert.equal(r.status, 403, path);
    }
  });

  it('an ingest source URL token is no API credential', async () => {
    const src = await server.api('POST', '/ingest/api/v1/source', { name: 'walk source', type: 'generic-webhook' });
    assert.equal(src.status, 201, JSON.stringify(src.body));
    const token = String(src.body.ingestUrl).split('/ingest/in/')[1]!;
    assert.ok(token.length >= 20);
    for (const r of routes.filter((x) => x.access !== 'public' && x.method === 'GET')) {
      const res = await fetch(server.url + pathOf(r.url, fillWith(A)), { headers: { authorization: `Bearer ${token}` } });
      await res.body?.cancel();
      assert.equal(res.status, 401, `${r.method} ${r.url}`);
    }
  });

  it("leaves B's data as it was", async () => {
    const ep = await server.api('GET', `/api/v1/app/${B.app}/endpoint/${B.endpoint}`);
    assert.equal(ep.status, 200);
    assert.equal(ep.body.uid, B.endpointUid);
    assert.equal((await server.api('GET', `/api/v1/app/${B.app}/endpoint/${B.endpoint}/secret`)).body.key, B.secret);
    const msg = await server.api('GET', `/api/v1/app/${B.app}/msg/${B.message}`);
    assert.equal(msg.body.payload.marker, B.marker);
    assert.equal((await server.api('GET', `/api/v1/app/${B.app}/msg`)).body.data.length, 1);
    assert.equal((await server.api('GET', `/api/v1/app/${B.app}/endpoint`)).body.data.length, 1);
    assert.equal((await server.api('GET', `/api/v1/app/${B.app}`)).body.uid, B.uid);
    assert.equal((await server.api('GET', `/api/v1/app/${B.app}/polling-endpoint`)).body.data.length, 1);
  });

  it('ids and tokens cannot be guessed: 112 random bits per id, 256 per token', () => {
    const at = Date.now();
    const ids = Array.from({ length: 2000 }, () => newId('endpoint', at));
    assert.equal(new Set(ids).size, ids.length);
    // Consecutive ids differ in most random characters: no counter.
    let differing = 0;
    for (let i = 1; i < ids.length; i++) for (let j = 12; j < ids[i]!.length; j++) if (ids[i]![j] !== ids[i - 1]![j]) differing++;
    assert.ok(differing / (ids.length - 1) > 15, `random characters differing per id: ${differing / (ids.length - 1)}`);
    for (const c of credentials.slice(0, 2)) assert.ok(c.token.length >= 43);
  });
});

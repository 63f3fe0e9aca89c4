/**
 * Secrets are seen only by credentials that may act: every route is walked with every kind
 * of token, and the answers of read-only ones never carry a secret (an endpoint's signing
 * secret, a sensitive header value, a poller token, an ingest source's credentials, an
 * operational webhook's secret). Which token sees secrets is one table; which route may show
 * one is decided by the route's declared access, also checked here over the route table.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import type { RouteEntry } from '../../src/http/auth.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp, createKey, oauthToken, portalToken } from '../helpers/security.js';
import { pathOf, sample } from '../helpers/route-walk.js';

interface TokenKind {
  name: string;
  make: () => Promise<string>;
  seesSecrets: boolean;
}

/** Accesses that let a read-only credential in: no route declaring one may answer a secret. */
const READ_ONLY_ACCESS = new Set(['public', 'any', 'app:read', 'poller']);
/** Response properties that carry a secret. */
const SECRET_PROPERTY = /^(key|secret|token|clientSecret|config|credentials?)$/;

/** Names of the properties a response schema can show, at any depth. */
function propertiesOf(schema: any, depth = 0, out = new Set<string>()): Set<string> {
  if (!schema || typeof schema !== 'object' || depth > 8) return out;
  for (const [k, v] of Object.entries(schema.properties ?? {})) {
    out.add(k);
    propertiesOf(v, depth + 1, out);
  }
  for (const k of ['items', 'additionalProperties']) propertiesOf(schema[k], depth + 1, out);
  for (const k of ['anyOf', 'oneOf', 'allOf']) for (const s of schema[k] ?? []) propertiesOf(s, depth + 1, out);
  return out;
}

describe('read-only credentials never see secrets, on any route', () => {
  let server: TestServer;
  let rx: Receiver;
  let app: string;
  let endpoint: string;
  let pollingEndpoint: string;
  let secrets: { what: string; value: string }[];
  let routes: RouteEntry[];
  let kinds: TokenKind[];

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    app = await createApp(server, 'secrets', `secrets-${Math.random().toString(36).slice(2)}`);
    const headerValue = `Bearer header-secret-${Math.random().toString(36).slice(2)}`;
    const ep = await server.api('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/secrets'), headers: { Authorization: headerValue } });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    endpoint = ep.body.id;
    const signing = (await server.api('GET', `/api/v1/app/${app}/endpoint/${endpoint}/secret`)).body.key as string;
    const pe = await server.api('POST', `/api/v1/app/${app}/polling-endpoint`, {});
    assert.equal(pe.status, 201);
    pollingEndpoint = pe.body.id;
    const pollerToken = (await server.api('GET', `/api/v1/auth/app/${app}/poller/${pollingEndpoint}/token`)).body.token as string;
    const sourceToken = `source-token-${Math.random().toString(36).slice(2)}`;
    const src = await server.api('POST', '/ingest/api/v1/source', { name: 'secrets', type: 'bearer', config: { token: sourceToken } });
    assert.equal(src.status, 201, JSON.stringify(src.body));
    const ingestUrlToken = String(src.body.ingestUrl).split('/ingest/in/')[1]!;
    const op = await server.api('POST', '/api/v1/operational-webhook/endpoint', { url: rx.url('/ops') });
    assert.equal(op.status, 201, JSON.stringify(op.body));
    const opSecret = (await server.api('GET', `/api/v1/operational-webhook/endpoint/${op.body.id}/secret`)).body.key as string;
    secrets = [
      { what: 'endpoint signing secret', value: signing },
      // The secret without its prefix is as good as the secret.
      { what: 'endpoint signing secret (bare)', value: signing.replace(/^whsec_/, '') },
      { what: 'sensitive header value', value: headerValue.slice('Bearer '.length) },
      { what: 'poller token', value: pollerToken },
      { what: 'ingest source token', value: sourceToken },
      { what: 'ingest URL token', value: ingestUrlToken },
      { what: 'operational webhook secret', value: opSecret.replace(/^whsec_/, '') },
    ];
    routes = [...server.sb.auth.routes()];
    kinds = [
      { name: 'admin token', make: async () => server.token, seesSecrets: true },
      { name: 'API key read+write+publish', make: async () => (await createKey(server, ['read', 'write', 'publish'], app)).key, seesSecrets: true },
      { name: 'API key read', make: async () => (await createKey(server, ['read'], app)).key, seesSecrets: false },
      { name: 'API key read+publish', make: async () => (await createKey(server, ['read', 'publish'], app)).key, seesSecrets: false },
      { name: 'OAuth token read', make: async () => (await oauthToken(server, ['read'], app)).token, seesSecrets: false },
      { name: 'OAuth token read+write', make: async () => (await oauthToken(server, ['read', 'write'], app)).token, seesSecrets: true },
      { name: 'app-portal token read-only', make: () => portalToken(server, app, { readOnly: true }), seesSecrets: false },
      { name: 'app-portal token, view capabilities only', make: () => portalToken(server, app, { capabilities: ['ViewBase'] }), seesSecrets: false },
      { name: 'app-portal token read-write', make: () => portalToken(server, app), seesSecrets: true },
      { name: 'poller token', make: async () => pollerToken, seesSecrets: false },
    ];
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  const fill = (p: string): string => {
    if (p === 'app_id') return app;
    if (p === 'endpoint_id') return endpoint;
    if (p === 'polling_endpoint_id' || p === 'sink_id') return pollingEndpoint;
    return `walk_${p}_0000000000000000000000`;
  };

  async function send(r: RouteEntry, token: string): Promise<{ status: number; text: string; path: string }> {
    let path = pathOf(r.url, fill);
    // The poller token route names a polling endpoint as endpoint_id.
    if (r.url.includes('/poller/')) path = pathOf(r.url, (p) => (p === 'endpoint_id' ? pollingEndpoint : fill(p)));
    const body = ['POST', 'PUT', 'PATCH'].includes(r.method) ? JSON.stringify(sample(r.schema?.body) ?? {}) : undefined;
    const res = await fetch(server.url + path, {
      method: r.method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    let text = '';
    // SSE streams stay open: the status and headers are enough.
    if ((res.headers.get('content-type') ?? '').includes('event-stream')) await res.body?.cancel();
    else text = await res.text();
    return { status: res.status, text: text + JSON.stringify([...res.headers]), path };
  }

  it('no route that lets a read-only credential in declares a response carrying a secret', () => {
    const failures: string[] = [];
    for (const r of routes) {
      if (!READ_ONLY_ACCESS.has(r.access) || r.access === 'public') continue;
      const response = (r.schema as { response?: Record<string, unknown> } | undefined)?.response ?? {};
      const shown = [...Object.values(response)].flatMap((s) => [...propertiesOf(s)]);
      const secretish = shown.filter((k) => SECRET_PROPERTY.test(k));
      if (secretish.length > 0) failures.push(`${r.method} ${r.url} (${r.access}) shows ${secretish.join(', ')}`);
    }
    assert.deepEqual(failures, []);
  });

  it('routes that answer secrets declare the secret access (write scope) or admin', () => {
    const byUrl = new Map(routes.map((r) => [`${r.method} ${r.url}`, r.access]));
    assert.equal(byUrl.get('GET /api/v1/app/:app_id/endpoint/:endpoint_id/secret'), 'app:secret');
    assert.equal(byUrl.get('GET /api/v1/auth/app/:app_id/poller/:endpoint_id/token'), 'app:secret');
    assert.equal(byUrl.get('GET /api/v1/operational-webhook/endpoint/:endpoint_id/secret'), 'admin');
  });

  it('walks every route with every kind of token: only those that may act see a secret', async () => {
    const failures: string[] = [];
    for (const kind of kinds) {
      const token = await kind.make();
      // Credentials that may write are walked on reads only, so the walk changes nothing they could then see.
      const walked = routes.filter((r) => r.url !== '/api/v1/auth/logout' && (!kind.seesSecrets || r.method === 'GET'));
      for (const r of walked) {
        const got = await send(r, token);
        if (got.status >= 500) failures.push(`${kind.name}: ${r.method} ${r.url} -> ${got.status}`);
        if (kind.seesSecrets) continue;
        const seen = secrets.filter((s) => !got.path.includes(encodeURIComponent(s.value)) && got.text.includes(s.value));
        if (seen.length > 0) failures.push(`${kind.name}: ${r.method} ${r.url} -> ${got.status} shows the ${seen.map((s) => s.what).join(', ')}`);
      }
      const secretRead = await call(server, 'GET', `/api/v1/app/${app}/endpoint/${endpoint}/secret`, { token });
      const tokenRead = await call(server, 'GET', `/api/v1/auth/app/${app}/poller/${pollingEndpoint}/token`, { token });
      const expected = kind.seesSecrets ? 200 : 403;
      if (secretRead.status !== expected) failures.push(`${kind.name}: endpoint secret -> ${secretRead.status}, expected ${expected}`);
      if (tokenRead.status !== expected) failures.push(`${kind.name}: poller token -> ${tokenRead.status}, expected ${expected}`);
      if (kind.seesSecrets && secretRead.body?.key !== secrets[0]!.value) failures.push(`${kind.name}: endpoint secret differs`);
    }
    assert.deepEqual(failures, []);
  });

  it('the svix SDK reads a signing secret with an application key that may write, and with the admin token', async () => {
    const key = (await createKey(server, ['read', 'write'], app)).key;
    for (const token of [key, server.token]) {
      const svix = new Svix(token, { serverUrl: server.url, retryScheduleInMs: [] });
      assert.equal((await svix.endpoint.getSecret(app, endpoint)).key, secrets[0]!.value);
    }
  });
});

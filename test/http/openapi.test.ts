/**
 * The OpenAPI document covers every route of the running server, every route documents a
 * success response, and the responses of representative calls match their documented
 * schemas (the test helper checks every response of the suite the same way).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { routeTable, DOCS_PREFIX } from '../../src/http/openapi.js';
import type { RouteEntry } from '../../src/http/openapi.js';
import { ResponseValidator, takeViolations } from '../../src/http/openapi-validator.js';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** Paths of the API proper, which must always be documented. */
const API_PATH = /^\/(api|ingest|oauth|\.well-known|metrics)(\/|$)/;
const toOpenApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document', () => {
  let server: TestServer;
  let rx: Receiver;
  let doc: any;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    const res = await fetch(server.url + '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    doc = await res.json();
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('is OpenAPI 3.1 with info, bearer security and named component schemas', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Switchboard API');
    assert.deepEqual(doc.components.securitySchemes.HTTPBearer, { type: 'http', scheme: 'bearer', description: doc.components.securitySchemes.HTTPBearer.description });
    for (const name of ['ApplicationOut', 'EndpointOut', 'MessageOut', 'MessageAttemptOut', 'ListResponseApplicationOut', 'OperationalWebhookEndpointOut']) {
      assert.ok(doc.components.schemas[name], `components.schemas.${name}`);
    }
    const list = doc.paths['/api/v1/app'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(list, { $ref: '#/components/schemas/ListResponseApplicationOut' });
  });

  it('documents every route of the running server, with tags, an operationId and a success response', () => {
    // Only HTML pages (dashboard, portal, these docs) may stay out of the document.
    const page = (r: RouteEntry) => r.url.startsWith(DOCS_PREFIX) || (r.schema?.hide === true && !API_PATH.test(r.url));
    const routes = routeTable(server.sb.app).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !page(r));
    assert.ok(routes.length >= 40, `route table has ${routes.length} routes`);
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const r of routes) {
      const where = `${r.method} ${r.url}`;
      const op = doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()];
      if (!op) {
        problems.push(`${where}: not in the document`);
        continue;
      }
      if (!Array.isArray(r.schema?.tags) || r.schema.tags.length === 0) problems.push(`${where}: no tags`);
      const declared = Object.keys((r.schema?.response ?? {}));
      if (!declared.some((k) => /^2/.test(k))) problems.push(`${where}: no documented success response`);
      if (typeof op.operationId !== 'string' || ids.has(op.operationId)) problems.push(`${where}: missing or duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      if (r.access === 'public') assert.deepEqual(op.security, [], `${where} is public`);
    }
    assert.deepEqual(problems, []);
  });

  it('has no operation for a route that does not exist', () => {
    const known = new Set(routeTable(server.sb.app).map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.url)}`));
    for (const [path, item] of Object.entries(doc.paths as Record<string, any>)) {
      for (const m of METHODS) if (item[m]) assert.ok(known.has(`${m} ${path}`), `${m} ${path}`);
    }
  });

  it('serves an interactive docs page with its assets from this server (no CDN)', async () => {
    const res = await fetch(server.url + DOCS_PREFIX + '/');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /swagger-ui/i);
    const external = [...html.matchAll(/(?:src|href)="(https?:[^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(external, []);
    const js = await fetch(server.url + DOCS_PREFIX + '/static/swagger-ui-bundle.js');
    assert.equal(js.status, 200);
    assert.ok((await js.text()).length > 100_000);
    const json = await fetch(server.url + DOCS_PREFIX + '/json');
    assert.equal(json.status, 200);
  });

  it('every response of representative calls matches its documented schema', async () => {
    takeViolations();
    const api = server.api.bind(server);
    const app = (await api('POST', '/api/v1/app', { name: 'docs', uid: 'docs-app', metadata: { a: 'b' } })).body;
    await api('POST', '/api/v1/app?get_if_exists=true', { name: 'docs', uid: 'docs-app' });
    await api('GET', '/api/v1/app');
    await api('GET', `/api/v1/app/${app.id}`);
    await api('PUT', `/api/v1/app/${app.id}`, { name: 'docs 2', uid: 'docs-app' });
    await api('PATCH', `/api/v1/app/${app.id}`, { name: 'docs 3' });
    await api('POST', '/api/v1/event-type', {
      name: 'doc.created',
      description: 'd',
      schemas: { '1': { type: 'object', properties: { a: { type: 'string' } }, examples: [{ a: 'x' }] } },
    });
    await api('GET', '/api/v1/event-type?with_content=true');
    await api('GET', '/api/v1/event-type/doc.created');
    await api('PUT', '/api/v1/event-type/doc.updated', { description: 'u' });
    await api('PATCH', '/api/v1/event-type/doc.updated', { archived: true });
    const ep = (await api('POST', `/api/v1/app/${app.id}/endpoint`, { url: rx.url('/docs'), uid: 'docs-ep', channels: ['c1'] })).body;
    await api('GET', `/api/v1/app/${app.id}/endpoint`);
    await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`);
    await api('PUT', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { url: rx.url('/docs') });
    await api('PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { description: 'x' });
    await api('PUT', `/api/v1/app/${app.id}/endpoint/${ep.id}/headers`, { headers: { 'x-a': '1', authorization: 'Bearer zzz' } });
    await api('PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}/headers`, { headers: { 'x-b': '2' } });
    await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/headers`);
    await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`);
    await api('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`, {});
    await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/stats`);
    const msg = (await api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'doc.created', eventId: 'evt-1', payload: { a: 'x' }, tags: ['t'] })).body;
    await eventually(() => rx.at('/docs').length >= 1, 'delivery');
    await api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'doc.created', eventId: 'evt-1', payload: {} });
    await api('GET', `/api/v1/app/${app.id}/msg?limit=5`);
    await api('GET', `/api/v1/app/${app.id}/msg/${msg.id}`);
    await api('GET', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint`);
    const [attempt] = await attemptsOf(server, app.id, msg.id);
    assert.ok(attempt, 'an attempt was recorded');
    await api('GET', `/api/v1/app/${app.id}/attempt/endpoint/${ep.id}`);
    await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/msg`);
    await api('GET', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${attempt.id}`);
    await api('POST', `/api/v1/app/${app.id}/msg/${msg.id}/endpoint/${ep.id}/resend`);
    await api('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/recover`, { since: new Date(Date.now() - 60_000).toISOString() });
    await api('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/replay-missing`, { since: new Date(Date.now() - 60_000).toISOString() });
    await api('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/send-example`, { eventType: 'doc.created' });
    await api('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/attempt/${attempt.id}/content`);
    await api('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/content`);
    // Operational webhooks, health, metrics.
    const op = (await api('POST', '/api/v1/operational-webhook/endpoint', { url: rx.url('/ops'), filterTypes: ['endpoint.disabled'] })).body;
    await api('GET', '/api/v1/operational-webhook/endpoint');
    await api('GET', `/api/v1/operational-webhook/endpoint/${op.id}`);
    await api('PUT', `/api/v1/operational-webhook/endpoint/${op.id}`, { url: rx.url('/ops2') });
    await api('GET', `/api/v1/operational-webhook/endpoint/${op.id}/secret`);
    await api('POST', `/api/v1/operational-webhook/endpoint/${op.id}/secret/rotate`, {});
    await api('PUT', `/api/v1/operational-webhook/endpoint/${op.id}/headers`, { headers: { 'x-op': '1' } });
    await api('GET', `/api/v1/operational-webhook/endpoint/${op.id}/headers`);
    await api('DELETE', `/api/v1/operational-webhook/endpoint/${op.id}`);
    await api('GET', '/api/v1/health');
    await api('GET', '/api/v1/health/ready');
    await api('GET', '/metrics');
    // Errors: unknown route, missing resource, bad input, bad token.
    await api('GET', '/api/v1/nope');
    await api('GET', '/api/v1/app/app_missing');
    await api('POST', '/api/v1/app', { name: 5 });
    await api('POST', '/api/v1/app', '{bad json');
    await api('GET', '/api/v1/app', undefined, { authorization: 'Bearer wrong' });
    // Deletes last.
    await api('DELETE', `/api/v1/app/${app.id}/endpoint/${ep.id}`);
    await api('DELETE', '/api/v1/event-type/doc.updated?expunge=true');
    await api('DELETE', `/api/v1/app/${app.id}`);
    await server.sb.dispatcher.idle();
    assert.deepEqual(takeViolations(), []);
  });
});

describe('response validator', () => {
  const v = new ResponseValidator();
  const item = { type: 'object', required: ['id'], properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' } } };

  it('accepts a body matching the documented schema', () => {
    assert.equal(v.check({ 200: item }, 200, 'application/json', '{"id":"a","at":"2024-01-01T00:00:00.000Z"}'), null);
    assert.equal(v.check({ '2xx': item }, 201, 'application/json', '{"id":"a"}'), null);
    assert.equal(v.check({ 204: { type: 'null' } }, 204, '', ''), null);
  });

  it('refuses a body that does not match', () => {
    assert.match(v.check({ 200: item }, 200, 'application/json', '{"id":5}') ?? '', /must be string/);
    assert.match(v.check({ 200: item }, 200, 'application/json', '{}') ?? '', /required property 'id'/);
    assert.match(v.check({ 200: item }, 200, 'application/json', '{"id":"a","at":"yesterday"}') ?? '', /date-time/);
  });

  it('refuses an undocumented success status or body', () => {
    assert.match(v.check({ 200: item }, 201, 'application/json', '{"id":"a"}') ?? '', /not documented/);
    assert.match(v.check(undefined, 200, 'application/json', '{"id":"a"}') ?? '', /not documented/);
    assert.match(v.check({ 200: item }, 204, '', '') ?? '', /not documented/);
  });

  it('holds undocumented errors to the common error shape', () => {
    assert.equal(v.check({ 200: item }, 404, 'application/json', '{"code":"not_found","detail":"x"}'), null);
    assert.equal(v.check(undefined, 422, 'application/json', '{"detail":[{"loc":["body","a"],"msg":"m","type":"t"}]}'), null);
    assert.ok(v.check({ 200: item }, 400, 'application/json', '{"error":"x"}'));
  });

  it('leaves non-JSON bodies alone', () => {
    assert.equal(v.check({ 200: { type: 'string' } }, 200, 'text/plain', '# HELP x'), null);
    assert.equal(v.check({ 200: item }, 200, 'text/event-stream', 'data: 1\n\n'), null);
  });
});

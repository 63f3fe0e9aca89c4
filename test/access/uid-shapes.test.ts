/**
 * A uid never has the shape of an id Switchboard issues: look-ups take an id or a uid, so a
 * uid equal to another object's id would resolve to that object. Every object with a uid
 * refuses such a uid with a 422 naming it, on create, replace and update, and when a path's
 * value would become the uid. Credentials scoped to one application never reach another.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ID_PREFIX, idKindOf, newId } from '../../src/domain/ids.js';
import type { IdKind } from '../../src/domain/ids.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp, createKey } from '../helpers/security.js';

/** Asserts a 422 whose one issue is at `loc` and explains the uid looks like an id. */
function assertRefused(res: { status: number; body: any }, what: string, loc: string[]): void {
  assert.equal(res.status, 422, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  const issue = (res.body.detail as { loc: string[]; msg: string; type: string }[]).find((d) => d.type === 'value_error.uid_looks_like_id');
  assert.ok(issue, `${what}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(issue.loc, loc, what);
  assert.match(issue.msg, /has the shape of a Switchboard \w+ id/, what);
}

describe('uids shaped like ids', () => {
  let server: TestServer;
  let rx: Receiver;
  let appA: string;
  let endpointA: string;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    appA = await createApp(server, 'A', 'uid-shapes-a');
    const ep = await server.api('POST', `/api/v1/app/${appA}/endpoint`, { url: rx.url('/a') });
    assert.equal(ep.status, 201);
    endpointA = ep.body.id;
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('recognises the shape of every kind of id, and nothing else', () => {
    for (const kind of Object.keys(ID_PREFIX) as IdKind[]) assert.equal(idKindOf(newId(kind)), kind);
    for (const uid of ['my-app', 'app_', 'app_short', `app_${'x'.repeat(26)}`, `app_${'x'.repeat(28)}`, `app_${'x'.repeat(26)}-`, `APP_${'x'.repeat(27)}`]) {
      assert.equal(idKindOf(uid), null, uid);
    }
  });

  it('refuses such a uid for an application: create, replace, update, and a path that would become the uid', async () => {
    assertRefused(await server.api('POST', '/api/v1/app', { name: 'B', uid: appA }), 'create with A id', ['body', 'uid']);
    assertRefused(await server.api('POST', '/api/v1/app', { name: 'B', uid: newId('endpoint') }), 'create with an endpoint id', ['body', 'uid']);
    assertRefused(await server.api('POST', '/api/v1/app?get_if_exists=true', { name: 'B', uid: newId('message') }), 'get-if-exists with a message id', ['body', 'uid']);
    assertRefused(await server.api('PUT', `/api/v1/app/${newId('application')}`, { name: 'B' }), 'PUT creating with the path as uid', ['path', 'app_id']);
    const b = await createApp(server, 'B', 'uid-shapes-b');
    assertRefused(await server.api('PUT', `/api/v1/app/${b}`, { name: 'B', uid: appA }), 'PUT with A id', ['body', 'uid']);
    assertRefused(await server.api('PATCH', `/api/v1/app/${b}`, { uid: appA }), 'PATCH with A id', ['body', 'uid']);
    // Publishing to an application created on the way: the path's value would be its uid.
    const publish = await server.api('POST', `/api/v1/app/${newId('application')}/msg`, { eventType: 'x.y', payload: {}, application: { name: 'created' } });
    assertRefused(publish, 'publish creating an application', ['path', 'app_id']);
    assert.equal((await server.api('GET', `/api/v1/app/${b}`)).body.uid, 'uid-shapes-b', 'B unchanged');
    // Ordinary uids still work, including ones that merely start like an id.
    assert.equal((await server.api('PATCH', `/api/v1/app/${b}`, { uid: 'app_of-mine' })).status, 200);
  });

  it('refuses such a uid for an endpoint, a polling endpoint, an ingest source and an operational webhook', async () => {
    const base = `/api/v1/app/${appA}`;
    assertRefused(await server.api('POST', `${base}/endpoint`, { url: rx.url('/x'), uid: endpointA }), 'endpoint create', ['body', 'uid']);
    assertRefused(await server.api('PUT', `${base}/endpoint/${newId('endpoint')}`, { url: rx.url('/x') }), 'endpoint PUT creating', ['path', 'endpoint_id']);
    assertRefused(await server.api('PUT', `${base}/endpoint/${endpointA}`, { url: rx.url('/a'), uid: newId('endpoint') }), 'endpoint PUT', ['body', 'uid']);
    assertRefused(await server.api('PATCH', `${base}/endpoint/${endpointA}`, { uid: newId('application') }), 'endpoint PATCH', ['body', 'uid']);
    assertRefused(await server.api('POST', `${base}/polling-endpoint`, { uid: newId('pollingEndpoint') }), 'polling endpoint create', ['body', 'uid']);
    const pe = await server.api('POST', `${base}/polling-endpoint`, {});
    assertRefused(await server.api('PATCH', `${base}/polling-endpoint/${pe.body.id}`, { uid: newId('pollingEndpoint') }), 'polling endpoint PATCH', ['body', 'uid']);
    assertRefused(await server.api('POST', '/ingest/api/v1/source', { name: 'source one', type: 'generic-webhook', uid: newId('application') }), 'source create', ['body', 'uid']);
    const src = await server.api('POST', '/ingest/api/v1/source', { name: 'source one', type: 'generic-webhook' });
    assert.equal(src.status, 201);
    assertRefused(await server.api('PATCH', `/ingest/api/v1/source/${src.body.id}`, { uid: newId('application') }), 'source PATCH', ['body', 'uid']);
    assertRefused(await server.api('POST', '/api/v1/operational-webhook/endpoint', { url: rx.url('/ops'), uid: newId('endpoint') }), 'operational webhook create', ['body', 'uid']);
    // The ingest source's own application, whose uid is the source id, is still made.
    assert.equal((await server.api('GET', `/ingest/api/v1/source/${src.body.id}/endpoint`)).status, 200);
  });

  it("a key scoped to A never reaches B, whatever B's uid; and reaches A by A's id and uid", async () => {
    const key = (await createKey(server, ['read', 'write', 'publish'], appA)).key;
    const b = await createApp(server, 'B2', 'uid-shapes-b2');
    // B cannot take A's id as uid, so A's id keeps naming A.
    assertRefused(await server.api('PATCH', `/api/v1/app/${b}`, { uid: appA }), 'B taking A id', ['body', 'uid']);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: key })).body.id, appA);
    assert.equal((await call(server, 'GET', '/api/v1/app/uid-shapes-a', { token: key })).body.id, appA);
    for (const path of [`/api/v1/app/${b}`, '/api/v1/app/uid-shapes-b2', `/api/v1/app/uid-shapes-b2/endpoint`]) {
      assert.equal((await call(server, 'GET', path, { token: key })).status, 404, path);
    }
    // Writes by A's uid act on A.
    const ep = await call(server, 'POST', '/api/v1/app/uid-shapes-a/endpoint', { token: key, body: { url: rx.url('/a2'), uid: 'a-second' } });
    assert.equal(ep.status, 201);
    assert.equal((await server.api('GET', `/api/v1/app/${appA}/endpoint/a-second`)).status, 200);
    assert.equal((await server.api('GET', `/api/v1/app/${b}/endpoint`)).body.data.length, 0);
  });
});

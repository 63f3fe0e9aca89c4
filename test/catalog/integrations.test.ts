/**
 * Integrations through the official `svix` SDK against a real server: every method of
 * `svix.integration`, and the scope of an integration key (its own application only, never
 * another application or an organisation route), rotation, deletion with the application.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Svix } from 'svix';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, sdkClient } from '../helpers/svix-sdk.js';

describe('integrations with the svix SDK', () => {
  let server: TestServer;
  let svix: Svix;
  let appId: string;
  let otherAppId: string;

  before(async () => {
    server = await startServer();
    svix = sdkClient(server.url, server.token);
    appId = (await svix.application.create({ name: 'Integrated', uid: 'integrated' })).id;
    otherAppId = (await svix.application.create({ name: 'Other' })).id;
  });
  after(async () => server.close());

  it('creates, gets, lists with paging, updates and deletes integrations', async () => {
    const created = await svix.integration.create(appId, { name: 'CRM sync', featureFlags: ['beta'] });
    assert.match(created.id, /^integ_/);
    assert.equal(created.name, 'CRM sync');
    assert.deepEqual(created.featureFlags, ['beta']);
    assert.ok(created.createdAt instanceof Date);
    // By the application's uid too.
    assert.deepEqual(await svix.integration.get('integrated', created.id), created);
    const more = [await svix.integration.create(appId, { name: 'two' }), await svix.integration.create(appId, { name: 'three' })];

    // Listed by id: ids made in the same millisecond may sort either way.
    const ids = [created.id, ...more.map((i) => i.id)].sort();
    const first = await svix.integration.list(appId, { limit: 2 });
    assert.deepEqual(first.data.map((i) => i.id), ids.slice(0, 2));
    assert.equal(first.done, false);
    const second = await svix.integration.list(appId, { limit: 2, iterator: first.iterator });
    assert.deepEqual(second.data.map((i) => i.id), ids.slice(2));
    assert.equal(second.done, true);
    assert.equal((await svix.integration.list(otherAppId)).data.length, 0);

    const updated = await svix.integration.update(appId, created.id, { name: 'CRM', featureFlags: [] });
    assert.equal(updated.name, 'CRM');
    assert.equal(updated.featureFlags, undefined);
    assert.equal((await svix.integration.get(appId, created.id)).name, 'CRM');

    await svix.integration.delete(appId, more[1]!.id);
    await assert.rejects(svix.integration.get(appId, more[1]!.id), apiError(404));
    await assert.rejects(svix.integration.delete(appId, more[1]!.id), apiError(404));
    // An integration is found only under its own application.
    await assert.rejects(svix.integration.get(otherAppId, created.id), apiError(404));
    await assert.rejects(svix.integration.create(appId, { name: '' }), apiError(422));
    await assert.rejects(svix.integration.create('no-such-app', { name: 'x' }), apiError(404));
  });

  it('gives a key that acts on its own application only', async () => {
    const integ = await svix.integration.create(appId, { name: 'scoped' });
    const { key } = await svix.integration.getKey(appId, integ.id);
    assert.match(key, /^sbint_/);
    assert.equal((await svix.integration.getKey(appId, integ.id)).key, key);
    const asIntegration = sdkClient(server.url, key);

    // Its own application: read, write, publish.
    assert.equal((await asIntegration.application.get(appId)).id, appId);
    const ep = await asIntegration.endpoint.create(appId, { url: 'http://127.0.0.1:9/hook' });
    assert.equal((await asIntegration.endpoint.list(appId)).data[0]?.id, ep.id);
    await asIntegration.message.create(appId, { eventType: 'user.created', payload: { a: 1 } });

    // Another application: as if it did not exist.
    await assert.rejects(asIntegration.application.get(otherAppId), apiError(404));
    await assert.rejects(asIntegration.endpoint.list(otherAppId), apiError(404));
    await assert.rejects(asIntegration.message.create(otherAppId, { eventType: 'x', payload: {} }), apiError(404));
    // It may see the integrations of its application, but not their keys.
    assert.ok((await asIntegration.integration.list(appId)).data.some((i) => i.id === integ.id));
    assert.equal((await asIntegration.integration.get(appId, integ.id)).name, 'scoped');
    await assert.rejects(asIntegration.integration.list(otherAppId), apiError(404));
    // Organisation routes, and managing integrations (credentials), need an admin token.
    await assert.rejects(asIntegration.application.list(), apiError(403));
    await assert.rejects(asIntegration.application.create({ name: 'new' }), apiError(403));
    await assert.rejects(asIntegration.connector.list(), apiError(403));
    await assert.rejects(asIntegration.environment.export(), apiError(403));
    await assert.rejects(asIntegration.integration.getKey(appId, integ.id), apiError(403));
    await assert.rejects(asIntegration.integration.create(appId, { name: 'self-made' }), apiError(403));
    await assert.rejects(asIntegration.integration.rotateKey(appId, integ.id), apiError(403));
    await assert.rejects(asIntegration.integration.delete(appId, integ.id), apiError(403));
  });

  it('rotates a key: the new one works, the old one is refused at once', async () => {
    const integ = await svix.integration.create(appId, { name: 'rotating' });
    const old = (await svix.integration.getKey(appId, integ.id)).key;
    assert.equal((await sdkClient(server.url, old).application.get(appId)).id, appId);
    const rotated = await svix.integration.rotateKey(appId, integ.id);
    assert.notEqual(rotated.key, old);
    assert.equal((await svix.integration.getKey(appId, integ.id)).key, rotated.key);
    await assert.rejects(sdkClient(server.url, old).application.get(appId), apiError(401));
    assert.equal((await sdkClient(server.url, rotated.key).application.get(appId)).id, appId);
  });

  it('refuses the key of a deleted integration, and deleting the application deletes its integrations', async () => {
    const integ = await svix.integration.create(appId, { name: 'doomed' });
    const key = (await svix.integration.getKey(appId, integ.id)).key;
    await svix.integration.delete(appId, integ.id);
    await assert.rejects(sdkClient(server.url, key).application.get(appId), apiError(401));

    const temp = await svix.application.create({ name: 'Temporary' });
    const tempInteg = await svix.integration.create(temp.id, { name: 'goes with the app' });
    const tempKey = (await svix.integration.getKey(temp.id, tempInteg.id)).key;
    await svix.application.delete(temp.id);
    await assert.rejects(sdkClient(server.url, tempKey).application.get(temp.id), apiError(401));
    const rows = await server.sb.store.integrations.list(temp.id, { limit: 10 });
    assert.equal(rows.data.length, 0);
  });
});

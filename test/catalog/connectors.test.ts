/**
 * Connectors through the official `svix` SDK against a real server: every method of
 * `svix.connector` (paging, the product filter, lookup by uid), the checks on their code and
 * fields, and an endpoint created from a connector (the Switchboard extension `connectorId`,
 * raw HTTP since the SDK's EndpointIn has no such field) delivering through its transformation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorKind, ConnectorProduct } from 'svix';
import type { ConnectorKind as Kind, Svix } from 'svix';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, sdkClient } from '../helpers/svix-sdk.js';

const UPPERCASE = 'function handler(webhook) { webhook.payload = { shout: String(webhook.payload.text).toUpperCase() }; return webhook; }';

describe('connectors with the svix SDK', () => {
  let server: TestServer;
  let svix: Svix;
  let rx: Receiver;

  before(async () => {
    rx = await new Receiver().start();
    rx.on('/hook', (_r, res) => void res.writeHead(200).end());
    server = await startServer();
    svix = sdkClient(server.url, server.token);
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('creates, gets by id or uid, updates, patches and deletes a connector', async () => {
    const c = await svix.connector.create({
      name: 'Slack',
      uid: 'slack-template',
      description: 'Posts to Slack',
      instructions: 'Set the channel',
      kind: ConnectorKind.Slack,
      logo: 'https://example.com/slack.png',
      transformation: UPPERCASE,
      featureFlags: ['chat'],
      allowedEventTypes: ['order.created'],
    });
    assert.match(c.id, /^conn_/);
    assert.equal(c.kind, ConnectorKind.Slack);
    assert.equal(c.productType, ConnectorProduct.Dispatch);
    assert.equal(typeof c.orgId, 'string');
    assert.deepEqual(c.allowedEventTypes, ['order.created']);
    assert.deepEqual(await svix.connector.get(c.id), c);
    assert.deepEqual(await svix.connector.get('slack-template'), c);

    const updated = await svix.connector.update(c.id, { name: 'Slack v2', transformation: UPPERCASE + '\n' });
    assert.equal(updated.name, 'Slack v2');
    assert.equal(updated.description, 'Posts to Slack');
    assert.ok(updated.transformationUpdatedAt.getTime() >= c.transformationUpdatedAt.getTime());
    const patched = await svix.connector.patch('slack-template', { description: 'Chat', logo: null });
    assert.equal(patched.description, 'Chat');
    assert.equal(patched.logo, null);
    assert.equal(patched.transformation, UPPERCASE + '\n');
    assert.equal(patched.transformationUpdatedAt.getTime(), updated.transformationUpdatedAt.getTime());

    await svix.connector.delete('slack-template');
    await assert.rejects(svix.connector.get(c.id), apiError(404));
    await assert.rejects(svix.connector.delete(c.id), apiError(404));
  });

  it('lists with paging and by product type', async () => {
    const made = [];
    for (const [n, productType] of [ConnectorProduct.Dispatch, ConnectorProduct.Stream, ConnectorProduct.Dispatch].entries()) {
      made.push(await svix.connector.create({ name: `list-${n}`, transformation: UPPERCASE, productType }));
    }
    // Listed by id: ids made in the same millisecond may sort either way.
    const ids = made.map((c) => c.id).sort();
    const first = await svix.connector.list({ limit: 2 });
    assert.deepEqual(first.data.map((c) => c.id), ids.slice(0, 2));
    assert.equal(first.done, false);
    const second = await svix.connector.list({ limit: 2, iterator: first.iterator });
    assert.deepEqual(second.data.map((c) => c.id), ids.slice(2));
    const streams = await svix.connector.list({ productType: ConnectorProduct.Stream });
    assert.deepEqual(streams.data.map((c) => c.id), [made[1]!.id]);
    for (const c of made) await svix.connector.delete(c.id);
  });

  it('refuses bad connectors with a clear 4xx', async () => {
    await assert.rejects(svix.connector.create({ name: 'broken', transformation: 'function handler(w) { return w' }), apiError(422));
    await assert.rejects(svix.connector.create({ name: 'no code', transformation: '' }), apiError(422));
    await assert.rejects(svix.connector.create({ name: 'kind', transformation: UPPERCASE, kind: 'Fax' as Kind }), apiError(422));
    await assert.rejects(svix.connector.create({ name: 'id-shaped', uid: 'conn_0000000000000000000000000000'.slice(0, 32), transformation: UPPERCASE }), apiError(422));
    const taken = await svix.connector.create({ name: 'taken', uid: 'taken-uid', transformation: UPPERCASE });
    await assert.rejects(svix.connector.create({ name: 'again', uid: 'taken-uid', transformation: UPPERCASE }), apiError(409));
    await assert.rejects(svix.connector.patch(taken.id, { transformation: 'not javascript (' }), apiError(422));
    await assert.rejects(svix.connector.get('nothing-here'), apiError(404));
    await svix.connector.delete(taken.id);
  });

  it('creates an endpoint from a connector: it starts with the connector\'s transformation and event types', async () => {
    const c = await svix.connector.create({ name: 'Shout', uid: 'shout', transformation: UPPERCASE, allowedEventTypes: ['note.posted'] });
    const appId = (await svix.application.create({ name: 'From connector' })).id;
    const res = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/hook'), connectorId: 'shout' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.filterTypes, ['note.posted']);
    const t = await svix.endpoint.transformationGet(appId, res.body.id);
    assert.equal(t.code, c.transformation);
    assert.equal(t.enabled, true);

    const msg = await svix.message.create(appId, { eventType: 'note.posted', payload: { text: 'hello' } });
    const got = await eventually(() => rx.at('/hook').find((r) => r.headers['webhook-id'] === msg.id), 'the transformed delivery');
    assert.deepEqual(JSON.parse(got.body), { shout: 'HELLO' });

    // Event types outside the connector's allowed ones, and a connector that does not exist: 422.
    const outside = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/hook'), connectorId: c.id, filterTypes: ['other.type'] });
    assert.equal(outside.status, 422);
    const missing = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/hook'), connectorId: 'no-such-connector' });
    assert.equal(missing.status, 422);
    assert.match(JSON.stringify(missing.body), /connectorId/);
  });
});

/**
 * Environment export and import through the official `svix` SDK against real servers:
 * an export imported into a second, fresh server reproduces its event types (with schemas)
 * and connectors; the same import twice changes nothing the second time; an invalid
 * document is refused with a 422 and nothing of it is applied.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorKind } from 'svix';
import type { ConnectorIn, EnvironmentIn, EnvironmentOut, EventTypeIn, Svix } from 'svix';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, sdkClient } from '../helpers/svix-sdk.js';

const CODE = 'function handler(webhook) { return webhook; }';
const SCHEMA = { '1': { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], examples: [{ id: 'u_1' }] } };

/** EnvironmentOut as EnvironmentIn: what a caller sends back to import an export. */
function asImport(e: EnvironmentOut): EnvironmentIn {
  return {
    eventTypes: e.eventTypes.map(
      (t): EventTypeIn => ({ name: t.name, description: t.description, archived: t.archived, deprecated: t.deprecated, featureFlag: t.featureFlag, schemas: t.schemas }),
    ),
    connectors: e.connectors.map(
      (c): ConnectorIn => ({
        name: c.name,
        uid: c.uid,
        description: c.description,
        instructions: c.instructions,
        kind: c.kind,
        logo: c.logo,
        productType: c.productType,
        transformation: c.transformation,
        featureFlags: c.featureFlags,
        allowedEventTypes: c.allowedEventTypes,
      }),
    ),
    settings: e.settings,
  };
}

/** What an export holds, without the times and ids each server gives its own objects. */
function comparable(e: EnvironmentOut) {
  return {
    eventTypes: e.eventTypes.map(({ createdAt: _c, updatedAt: _u, ...rest }) => rest),
    connectors: e.connectors.map(({ id: _i, createdAt: _c, updatedAt: _u, transformationUpdatedAt: _t, ...rest }) => rest),
  };
}

describe('environment export and import with the svix SDK', () => {
  let source: TestServer;
  let target: TestServer;
  let from: Svix;
  let to: Svix;

  before(async () => {
    source = await startServer();
    target = await startServer();
    from = sdkClient(source.url, source.token);
    to = sdkClient(target.url, target.token);
    await from.eventType.create({ name: 'user.created', description: 'A user signed up', schemas: SCHEMA });
    await from.eventType.create({ name: 'user.deleted', description: 'A user left', deprecated: true, featureFlag: 'beta' });
    await from.eventType.create({ name: 'user.legacy', description: 'Old', archived: true });
    await from.connector.create({ name: 'Slack', uid: 'slack', kind: ConnectorKind.Slack, transformation: CODE, allowedEventTypes: ['user.created'] });
    await from.connector.create({ name: 'Plain', transformation: CODE, description: 'no uid' });
  });
  after(async () => {
    await source.close();
    await target.close();
  });

  it('exports event types with their schemas, and connectors', async () => {
    const e = await from.environment.export();
    assert.ok(e.createdAt instanceof Date);
    assert.equal(e.version, 1);
    assert.deepEqual(e.eventTypes.map((t) => t.name), ['user.created', 'user.deleted', 'user.legacy']);
    assert.deepEqual(e.eventTypes[0]!.schemas, SCHEMA);
    assert.equal(e.eventTypes[2]!.archived, true);
    assert.deepEqual(e.connectors.map((c) => c.name).sort(), ['Plain', 'Slack']);
    assert.equal(e.connectors[0]!.transformation, CODE);
    assert.equal(e.settings, null);
  });

  it('reproduces the environment in a fresh server, and a second import changes nothing', async () => {
    const exported = await from.environment.export();
    await to.environment.import(asImport(exported));
    assert.deepEqual(comparable(await to.environment.export()), comparable(exported));
    assert.deepEqual((await to.eventType.get('user.created')).schemas, SCHEMA);
    assert.equal((await to.connector.get('slack')).kind, ConnectorKind.Slack);

    const before = await to.environment.export();
    // The report (a Switchboard extension the SDK ignores) says nothing changed.
    const again = await target.api('POST', '/api/v1/environment/import', asImport(exported));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, {
      eventTypes: { created: [], updated: [], unchanged: 3 },
      connectors: { created: [], updated: [], unchanged: 2 },
      ignored: [],
    });
    const afterward = await to.environment.export();
    assert.deepEqual(afterward.eventTypes, before.eventTypes);
    assert.deepEqual(afterward.connectors, before.connectors);
  });

  it('reports what an import changed', async () => {
    const doc = asImport(await to.environment.export());
    doc.eventTypes![0]!.description = 'changed';
    doc.eventTypes!.push({ name: 'user.updated', description: 'new' });
    doc.connectors![1]!.description = 'now described';
    doc.connectors!.push({ name: 'Third', uid: 'third', transformation: CODE });
    const res = await target.api('POST', '/api/v1/environment/import', { ...doc, settings: { colour: 'blue' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.eventTypes, { created: ['user.updated'], updated: ['user.created'], unchanged: 2 });
    assert.equal(res.body.connectors.created.length, 1);
    assert.equal(res.body.connectors.updated.length, 1);
    assert.equal(res.body.connectors.unchanged, 1);
    assert.deepEqual(res.body.ignored, ['settings']);
    assert.equal((await to.eventType.get('user.created')).description, 'changed');
    assert.equal((await to.connector.get('third')).name, 'Third');
  });

  it('refuses an invalid document with a 422 and applies none of it', async () => {
    const before = await to.environment.export();
    const valid = { name: 'user.valid', description: 'would be created' };
    const cases: EnvironmentIn[] = [
      // Transformation code that does not compile, after valid parts.
      { eventTypes: [valid], connectors: [{ name: 'ok', transformation: CODE }, { name: 'broken', transformation: 'function handler(' }] },
      // The same event type twice.
      { eventTypes: [valid, { name: 'user.twice', description: 'a' }, { name: 'user.twice', description: 'b' }] },
      // The same connector uid twice.
      { eventTypes: [valid], connectors: [{ name: 'a', uid: 'dup', transformation: CODE }, { name: 'b', uid: 'dup', transformation: CODE }] },
      // An event type name outside the allowed characters.
      { eventTypes: [valid, { name: 'bad name!', description: 'x' }] },
    ];
    for (const doc of cases) await assert.rejects(to.environment.import(doc), apiError(422));
    const unknownKind = await target.api('POST', '/api/v1/environment/import', { eventTypes: [valid], connectors: [{ name: 'k', kind: 'Fax', transformation: CODE }] });
    assert.equal(unknownKind.status, 422);
    const afterward = await to.environment.export();
    assert.deepEqual(afterward.eventTypes, before.eventTypes);
    assert.deepEqual(afterward.connectors, before.connectors);
    await assert.rejects(to.eventType.get('user.valid'), apiError(404));
  });

  it('is for organisation admins only', async () => {
    const appId = (await to.application.create({ name: 'Scoped' })).id;
    const integ = await to.integration.create(appId, { name: 'k' });
    const scoped = sdkClient(target.url, (await to.integration.getKey(appId, integ.id)).key);
    await assert.rejects(scoped.environment.export(), apiError(403));
    await assert.rejects(scoped.environment.import({ eventTypes: [] }), apiError(403));
  });
});

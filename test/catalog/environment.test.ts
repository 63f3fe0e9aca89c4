/**
 * Environment export and import through the official `svix` SDK against real servers:
 * an export imported into a second, fresh server reproduces its event types (with schemas),
 * connectors and settings, and the imported settings are honoured there; the same import
 * twice changes nothing the second time; settings Switchboard does not keep are reported as
 * ignored; an invalid document is refused with a 422 and nothing of it is applied.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorKind } from 'svix';
import type { ConnectorIn, EnvironmentIn, EnvironmentOut, EventTypeIn, Svix } from 'svix';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, apiErrorMentioning, sdkClient } from '../helpers/svix-sdk.js';

const CODE = 'function handler(webhook) { return webhook; }';
const SCHEMA = { '1': { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], examples: [{ id: 'u_1' }] } };

/** An endpoint URL refused because the settings enforce https. */
const httpsRefused = apiErrorMentioning(422, 'enforceHttps');

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
    settings: e.settings as unknown,
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
    await from.environment.import({ settings: { enforceHttps: true } });
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
    assert.deepEqual(e.settings, { enforceHttps: true });
    assert.deepEqual((await to.environment.export()).settings, { enforceHttps: false }, 'a fresh server has the defaults');
  });

  it('reproduces the environment in a fresh server, and a second import changes nothing', async () => {
    const exported = await from.environment.export();
    await to.environment.import(asImport(exported));
    assert.deepEqual(comparable(await to.environment.export()), comparable(exported));
    assert.deepEqual((await to.eventType.get('user.created')).schemas, SCHEMA);
    assert.equal((await to.connector.get('slack')).kind, ConnectorKind.Slack);
    // The imported settings are honoured: endpoint URLs must now be https.
    const appId = (await to.application.create({ name: 'Honoured' })).id;
    await assert.rejects(to.endpoint.create(appId, { url: 'http://example.com/hook' }), httpsRefused);
    const ep = await to.endpoint.create(appId, { url: 'https://example.com/hook' });
    await assert.rejects(to.endpoint.patch(appId, ep.id, { url: 'http://example.com/other' }), httpsRefused);
    await assert.rejects(to.endpoint.update(appId, ep.id, { url: 'http://example.com/other' }), httpsRefused);

    const before = await to.environment.export();
    // The report (a Switchboard extension the SDK ignores) says nothing changed.
    const again = await target.api('POST', '/api/v1/environment/import', asImport(exported));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, {
      eventTypes: { created: [], updated: [], unchanged: 3 },
      connectors: { created: [], updated: [], unchanged: 2 },
      settings: { updated: [], unchanged: 1 },
      ignored: [],
    });
    const afterward = await to.environment.export();
    assert.deepEqual(afterward.eventTypes, before.eventTypes);
    assert.deepEqual(afterward.connectors, before.connectors);
    assert.deepEqual(afterward.settings, before.settings);
  });

  it('reports what an import changed', async () => {
    const doc = asImport(await to.environment.export());
    doc.eventTypes![0]!.description = 'changed';
    doc.eventTypes!.push({ name: 'user.updated', description: 'new' });
    doc.connectors![1]!.description = 'now described';
    doc.connectors!.push({ name: 'Third', uid: 'third', transformation: CODE });
    // A settings object is the whole of the settings: enforceHttps, left out, takes its default.
    const res = await target.api('POST', '/api/v1/environment/import', { ...doc, settings: { colour: 'blue', displayName: 'Acme' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.eventTypes, { created: ['user.updated'], updated: ['user.created'], unchanged: 2 });
    assert.equal(res.body.connectors.created.length, 1);
    assert.equal(res.body.connectors.updated.length, 1);
    assert.equal(res.body.connectors.unchanged, 1);
    assert.deepEqual(res.body.settings, { updated: ['enforceHttps'], unchanged: 0 });
    assert.deepEqual(res.body.ignored, ['settings.colour', 'settings.displayName']);
    assert.equal((await to.eventType.get('user.created')).description, 'changed');
    assert.equal((await to.connector.get('third')).name, 'Third');
    assert.deepEqual((await to.environment.export()).settings, { enforceHttps: false });
    const appId = (await to.application.create({ name: 'Plain http' })).id;
    assert.match((await to.endpoint.create(appId, { url: 'http://example.com/hook' })).id, /^ep_/, 'http allowed again');

    // No settings (or null) leaves them as they are; an explicit value changes only when it differs.
    await to.environment.import({ settings: { enforceHttps: true } });
    for (const settings of [undefined, null]) {
      const kept = await target.api('POST', '/api/v1/environment/import', { eventTypes: [], settings });
      assert.equal(kept.status, 200, JSON.stringify(kept.body));
      assert.deepEqual(kept.body.settings, { updated: [], unchanged: 0 });
      assert.deepEqual((await to.environment.export()).settings, { enforceHttps: true });
    }
    const same = await target.api('POST', '/api/v1/environment/import', { settings: { enforceHttps: true } });
    assert.deepEqual(same.body.settings, { updated: [], unchanged: 1 });
    const nulled = await target.api('POST', '/api/v1/environment/import', { settings: { enforceHttps: null } });
    assert.deepEqual(nulled.body.settings, { updated: ['enforceHttps'], unchanged: 0 }, 'null is the default');
    assert.deepEqual((await to.environment.export()).settings, { enforceHttps: false });
  });

  it('refuses an invalid document with a 422 and applies none of it', async () => {
    const before = await to.environment.export();
    assert.deepEqual(before.settings, { enforceHttps: false });
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
      // A change of settings, with a connector that does not compile.
      { settings: { enforceHttps: true }, connectors: [{ name: 'broken', transformation: 'function handler(' }] },
    ];
    for (const doc of cases) await assert.rejects(to.environment.import(doc), apiError(422));
    const unknownKind = await target.api('POST', '/api/v1/environment/import', { eventTypes: [valid], connectors: [{ name: 'k', kind: 'Fax', transformation: CODE }] });
    assert.equal(unknownKind.status, 422);
    // A setting of the wrong type, or settings that are not an object, after valid parts.
    const badSetting = await target.api('POST', '/api/v1/environment/import', { eventTypes: [valid], settings: { enforceHttps: 'yes' } });
    assert.equal(badSetting.status, 422);
    assert.deepEqual(badSetting.body.detail[0].loc, ['body', 'settings', 'enforceHttps']);
    for (const settings of ['strict', [true], 1]) {
      const notObject = await target.api('POST', '/api/v1/environment/import', { eventTypes: [valid], settings });
      assert.equal(notObject.status, 422, JSON.stringify(notObject.body));
    }
    const afterward = await to.environment.export();
    assert.deepEqual(afterward.eventTypes, before.eventTypes);
    assert.deepEqual(afterward.connectors, before.connectors);
    assert.deepEqual(afterward.settings, before.settings);
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

/**
 * The credential storage contract (`Store.auth`, and endpoint secrets sealed at rest): API
 * keys, OAuth clients and signing keys, portal tokens. Every Store implementation must pass
 * it; test/storage/auth-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/domain/ids.js';
import type { Endpoint } from '../../src/domain/model.js';
import { SecretBox } from '../../src/security/crypto.js';
import type { Store } from '../../src/storage/contract/store.js';
import type { ApiKeyRecord, PortalTokenRecord } from '../../src/storage/contract/auth.js';
import { rawRows } from './raw-db.js';
import type { TestStore } from './stores.js';

/** The clock origin of these records (ms). */
export const T0 = 1_900_000_000_000;
/** The endpoint signing secret of `endpointWithSecrets`. */
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HEADER_VALUE = 'Bearer very-private-header-value';

/** An endpoint holding a signing secret and a private header value (to find them unsealed in raw rows). */
export function endpointWithSecrets(appId: string): Endpoint {
  return {
    id: newId('endpoint', T0),
    appId,
    uid: null,
    url: 'https://example.com/hook',
    description: '',
    disabled: false,
    eventTypes: null,
    channels: null,
    throttleRate: null,
    metadata: {},
    headers: { Authorization: HEADER_VALUE },
    secrets: [{ key: SECRET, expiresAt: null }],
    failingSince: null,
    createdAt: T0,
    updatedAt: T0,
  };
}

function apiKey(over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: newId('apiKey', T0),
    name: 'k',
    prefix: 'sbk_abcdefgh',
    hash: randomBytes(32).toString('hex'),
    appId: null,
    scopes: ['admin'],
    createdAt: T0,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...over,
  };
}

function portalToken(appId: string, over: Partial<PortalTokenRecord> = {}): PortalTokenRecord {
  return {
    id: newId('portalToken', T0),
    hash: randomBytes(32).toString('hex'),
    appId,
    scopes: ['read'],
    sessionId: null,
    createdAt: T0,
    expiresAt: T0 + 3600_000,
    revokedAt: null,
    ...over,
  };
}

/** Runs the credential storage contract against stores made by `make` (which must seal with `box`). */
export function authStoreContract(name: string, make: (box: SecretBox) => Promise<TestStore>): void {
  describe(`auth store contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    const box = new SecretBox([randomBytes(32)]);
    before(async () => {
      ({ store, dispose } = await make(box));
      await store.migrate();
    });
    after(async () => dispose());

    it('keeps API keys: by hash, by id, listed page by page and per application, revoked once, touched', async () => {
      const appId = newId('application', T0);
      const keys = [apiKey(), apiKey({ appId, scopes: ['publish', 'read'] }), apiKey({ appId, scopes: ['write'], expiresAt: T0 + 5 })];
      for (const k of keys) await store.auth.createApiKey(k);
      assert.deepEqual(await store.auth.apiKeyByHash(keys[1]!.hash), keys[1]);
      assert.deepEqual(await store.auth.getApiKey(keys[2]!.id), keys[2]);
      assert.equal(await store.auth.apiKeyByHash('00'), null);
      const first = await store.auth.listApiKeys({ limit: 2 });
      assert.equal(first.data.length, 2);
      assert.equal(first.done, false);
      const second = await store.auth.listApiKeys({ limit: 2, iterator: first.iterator! });
      assert.ok(second.data.length >= 1);
      assert.deepEqual((await store.auth.listApiKeys({ limit: 10, appId })).data.map((k) => k.id).sort(), [keys[1]!.id, keys[2]!.id].sort());
      assert.equal(await store.auth.revokeApiKey(keys[0]!.id, T0 + 1), true);
      assert.equal(await store.auth.revokeApiKey(keys[0]!.id, T0 + 2), false);
      assert.equal((await store.auth.getApiKey(keys[0]!.id))!.revokedAt, T0 + 1);
      await store.auth.touchApiKey(keys[1]!.id, T0 + 9);
      assert.equal((await store.auth.getApiKey(keys[1]!.id))!.lastUsedAt, T0 + 9);
    });

    it('keeps OAuth clients and signing keys; private keys are sealed and opened back', async () => {
      const c = { id: newId('oauthClient', T0), name: 'c', secretHash: 'ab'.repeat(32), appId: null, scopes: ['admin' as const], createdAt: T0, revokedAt: null, lastUsedAt: null };
      await store.auth.createOAuthClient(c);
      assert.deepEqual(await store.auth.getOAuthClient(c.id), c);
      assert.ok((await store.auth.listOAuthClients({ limit: 10 })).data.some((x) => x.id === c.id));
      assert.equal(await store.auth.revokeOAuthClient(c.id, T0 + 1), true);
      await store.auth.touchOAuthClient(c.id, T0 + 2);
      assert.equal((await store.auth.getOAuthClient(c.id))!.lastUsedAt, T0 + 2);
      const priv = JSON.stringify({ kty: 'EC', d: 'private-part-of-the-key' });
      await store.auth.createSigningKey({ kid: 'k1', alg: 'ES256', privateJwk: priv, publicJwk: '{"kty":"EC"}', createdAt: T0, retiredAt: null });
      await store.auth.createSigningKey({ kid: 'k2', alg: 'ES256', privateJwk: priv, publicJwk: '{"kty":"EC"}', createdAt: T0 + 10, retiredAt: null });
      await store.auth.retireSigningKeysExcept('k2', T0 + 20);
      const listed = await store.auth.listSigningKeys();
      assert.deepEqual(listed.map((k) => [k.kid, k.retiredAt]), [['k2', null], ['k1', T0 + 20]]);
      assert.equal(listed[0]!.privateJwk, priv);
      const raw = JSON.stringify(await rawRows(store, 'SELECT private_jwk FROM oauth_signing_keys'));
      assert.ok(!raw.includes('private-part-of-the-key'), 'sealed at rest');
      assert.equal(await store.auth.pruneSigningKeys(T0 + 20), 0);
      assert.equal(await store.auth.pruneSigningKeys(T0 + 21), 1);
      assert.deepEqual((await store.auth.listSigningKeys()).map((k) => k.kid), ['k2']);
    });

    it('keeps portal tokens; expire-all moves expiry forward for the application or its sessions only', async () => {
      const appId = newId('application', T0);
      const other = newId('application', T0);
      const t1 = portalToken(appId, { sessionId: 's1' });
      const t2 = portalToken(appId, { sessionId: 's2' });
      const t3 = portalToken(other);
      for (const t of [t1, t2, t3]) await store.auth.createPortalToken(t);
      assert.deepEqual(await store.auth.portalTokenByHash(t1.hash), t1);
      assert.equal(await store.auth.expirePortalTokens(appId, T0 + 10, ['s1'], T0), 1);
      assert.equal((await store.auth.portalTokenByHash(t1.hash))!.expiresAt, T0 + 10);
      assert.equal(await store.auth.expirePortalTokens(appId, T0 + 5, null, T0), 2);
      assert.equal((await store.auth.portalTokenByHash(t2.hash))!.expiresAt, T0 + 5);
      assert.equal((await store.auth.portalTokenByHash(t3.hash))!.expiresAt, t3.expiresAt, 'other applications untouched');
      assert.equal(await store.auth.expirePortalTokens(appId, T0 + 5, [], T0), 0);
      await store.auth.revokePortalToken(t3.id, T0 + 1);
      assert.equal((await store.auth.portalTokenByHash(t3.hash))!.revokedAt, T0 + 1);
    });

    it('seals endpoint secrets and headers: the raw columns hold no plaintext, the store gives it back', async () => {
      const appId = newId('application', T0);
      const ep = endpointWithSecrets(appId);
      await store.createEndpoint(ep);
      const raw = JSON.stringify(await rawRows(store, 'SELECT * FROM endpoints WHERE id = ?', ep.id));
      assert.ok(!raw.includes(SECRET.slice(6)), 'no secret in the row');
      assert.ok(!raw.includes('very-private-header-value'), 'no header value in the row');
      assert.ok(raw.includes('sbenc:v1:' + box.currentKeyId), 'sealed under the current key');
      assert.deepEqual((await store.getEndpoint(appId, ep.id))!.secrets, ep.secrets);
      assert.deepEqual((await store.getEndpoint(appId, ep.id))!.headers, ep.headers);
      const updated = { ...ep, secrets: [{ key: 'whsec_' + 'B'.repeat(32), expiresAt: null }, ...ep.secrets] };
      await store.updateEndpoint(updated);
      const raw2 = JSON.stringify(await rawRows(store, 'SELECT * FROM endpoints WHERE id = ?', ep.id));
      assert.ok(!raw2.includes('B'.repeat(32)) && !raw2.includes(SECRET.slice(6)));
      assert.deepEqual((await store.allEndpoints(appId))[0]!.secrets, updated.secrets);
    });
  });
}

/**
 * Credential storage and secrets at rest. `authStoreContract` is the suite every Store's
 * `auth` must pass (run here on SQLite); the rest checks the encryption of secrets: AES-GCM
 * sealing, no plaintext in the database, key rotation and `switchboard keys reencrypt`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { newId } from '../../src/domain/ids.js';
import type { Endpoint } from '../../src/domain/model.js';
import { SecretBox, keyId, parseKeyRing, resolveKeyRing } from '../../src/security/crypto.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/contract/store.js';
import type { ApiKeyRecord, PortalTokenRecord } from '../../src/storage/contract/auth.js';
import { rawRows } from '../helpers/raw-db.js';
import { createTestSchema } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';
import { call, createApp } from '../helpers/security.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const T0 = 1_900_000_000_000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HEADER_VALUE = 'Bearer very-private-header-value';

function endpoint(appId: string): Endpoint {
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
export function authStoreContract(name: string, make: (box: SecretBox) => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
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
      const ep = endpoint(appId);
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

authStoreContract('sqlite', async (box) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-auth-'));
  const store = new SqliteStore({ path: join(dir, 'test.db'), durability: 'normal', box });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SecretBox', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('seals with AES-256-GCM: a fresh IV each time, tampering and wrong keys detected', () => {
    const box = new SecretBox([k1]);
    const a = box.seal('hello');
    assert.notEqual(a, box.seal('hello'), 'random IV');
    assert.match(a, /^sbenc:v1:[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]+$/);
    assert.equal(box.open(a), 'hello');
    assert.equal(box.open('plain legacy value'), 'plain legacy value');
    const body = a.split(':')[3]!;
    const flipped = Buffer.from(body, 'base64url');
    flipped[14] = flipped[14]! ^ 1;
    assert.throws(() => box.open(`sbenc:v1:${keyId(k1)}:${flipped.toString('base64url')}`));
    assert.throws(() => new SecretBox([k2]).open(a), /not in SWITCHBOARD_ENCRYPTION_KEY/);
    assert.throws(() => box.open('sbenc:v1:short'), /malformed/);
    assert.equal(SecretBox.plaintext().seal('x'), 'x');
  });

  it('rotates: a ring opens values of every key and re-seals old ones under the first', () => {
    const old = new SecretBox([k1]);
    const ring = new SecretBox([k2, k1]);
    const sealed = old.seal('s');
    const doc = JSON.stringify({ a: sealed, b: ring.seal('t') });
    const rewrapped = ring.rewrap(doc).text!;
    assert.ok(!rewrapped.includes(keyId(k1)));
    const parsed = JSON.parse(rewrapped) as { a: string; b: string };
    assert.equal(new SecretBox([k2]).open(parsed.a), 's');
    assert.deepEqual(ring.rewrap(rewrapped), { text: null, unopened: 0 }, 'nothing left to do');
    assert.ok(SecretBox.isSealed(ring.rewrap('plain', true).text!));
    // Text that only looks sealed (say, in a payload someone sent) is left alone and counted.
    const fake = `{"note":"sbenc:v1:AAAAAAAA:${'B'.repeat(40)}"}`;
    assert.deepEqual(ring.rewrap(fake), { text: null, unopened: 1 });
  });

  it('reads keys in base64, base64url or hex and refuses keys that are not 32 bytes', () => {
    assert.equal(parseKeyRing(k1.toString('base64'))[0]!.equals(k1), true);
    assert.equal(parseKeyRing(k1.toString('base64url'))[0]!.equals(k1), true);
    assert.equal(parseKeyRing(`${k2.toString('hex')}, ${k1.toString('base64')}`).length, 2);
    assert.throws(() => parseKeyRing('c2hvcnQ='), /32 bytes/);
  });

  it('generates a key once into the data directory, readable only by its owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-key-'));
    try {
      let told = 0;
      const first = resolveKeyRing([], dir, () => told++);
      const again = resolveKeyRing([], dir, () => told++);
      assert.equal(told, 1);
      assert.ok(first[0]!.equals(again[0]!));
      assert.equal(statSync(join(dir, 'encryption-key')).mode & 0o777, 0o600);
      assert.ok(resolveKeyRing([k1], dir, () => told++)[0]!.equals(k1), 'a configured key wins');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('encryption key rotation on a SQLite file', () => {
  it('old and new keys read during the change; re-encryption leaves only the new key; the old key alone no longer opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-rotate-'));
    const path = join(dir, 'db.sqlite');
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const open = async (keys: Buffer[]) => {
      const s = new SqliteStore({ path, durability: 'normal', box: new SecretBox(keys) });
      await s.migrate();
      return s;
    };
    try {
      const appId = newId('application', T0);
      const ep = endpoint(appId);
      let s = await open([k1]);
      await s.createEndpoint(ep);
      await s.auth.createSigningKey({ kid: 'k', alg: 'ES256', privateJwk: '{"d":"x"}', publicJwk: '{}', createdAt: T0, retiredAt: null });
      // A row written before encryption was on.
      const legacy = { ...endpoint(appId), id: newId('endpoint', T0 + 1) };
      await s.createEndpoint(legacy);
      s.db.prepare('UPDATE endpoints SET secrets = ?, headers = ? WHERE id = ?').run(JSON.stringify(legacy.secrets), JSON.stringify(legacy.headers), legacy.id);
      await s.close();

      s = await open([k2, k1]);
      assert.deepEqual((await s.getEndpoint(appId, ep.id))!.secrets, ep.secrets, 'readable with the old key still in the ring');
      const scan = await s.auth.rewrapSecrets();
      assert.equal(scan.byKey[keyId(k1)], 3, 'secrets, headers and the signing key were under the old key');
      assert.equal(scan.rewrapped, 5, 'three re-sealed, and the legacy row sealed (secrets and headers)');
      const raw = JSON.stringify(await rawRows(s, 'SELECT secrets, headers FROM endpoints')) + JSON.stringify(await rawRows(s, 'SELECT private_jwk FROM oauth_signing_keys'));
      assert.ok(!raw.includes(keyId(k1)) && !raw.includes(SECRET.slice(6)));
      assert.equal((await s.auth.rewrapSecrets()).rewrapped, 0, 'idempotent');
      await s.close();

      s = await open([k2]);
      assert.deepEqual((await s.getEndpoint(appId, legacy.id))!.headers, legacy.headers);
      assert.equal((await s.auth.listSigningKeys())[0]!.privateJwk, '{"d":"x"}');
      await s.close();
      s = await open([k1]);
      await assert.rejects(s.getEndpoint(appId, ep.id), /not in SWITCHBOARD_ENCRYPTION_KEY/);
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('switchboard keys reencrypt moves a server to a new key without losing a secret', async () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    // The command works on the server's database: the SQLite file, or the suite's PostgreSQL schema.
    const pg = process.env.SWITCHBOARD_TEST_STORE === 'postgres' ? await createTestSchema('sbkeys') : null;
    const db: Record<string, string> = pg ? { SWITCHBOARD_DATABASE_URL: pg.url } : {};
    let server = await startServer({ SWITCHBOARD_ENCRYPTION_KEY: k1, ...db });
    const dataDir = server.dataDir;
    try {
      const appId = await createApp(server, 'rot');
      const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: 'https://example.com/x', secret: SECRET });
      // Stop without deleting the data directory, then run the command on it.
      await server.sb.close();
      const env = { ...process.env, ...db, SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ENCRYPTION_KEY: `${k2},${k1}`, SWITCHBOARD_ADMIN_TOKEN: 'x' };
      const out = await run(process.execPath, [MAIN, 'keys', 'reencrypt'], { env });
      assert.match(out.stdout, /re-encrypted [1-9]\d* value/);
      server = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ENCRYPTION_KEY: k2, ...db });
      const secret = await call(server, 'GET', `/api/v1/app/${appId}/endpoint/${ep.body.id}/secret`, { token: server.token });
      assert.equal(secret.body.key, SECRET);
    } finally {
      await server.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Secrets at rest: AES-GCM sealing, no plaintext in the database, key rotation and
 * `switchboard keys reencrypt` (the credential storage contract is in auth-store.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { newId } from '../../src/domain/ids.js';
import { SecretBox, keyId, parseKeyRing, resolveKeyRing } from '../../src/security/crypto.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { rawRows } from '../helpers/raw-db.js';
import { SECRET, T0, endpointWithSecrets } from '../helpers/auth-store-contract.js';
import { createTestSchema } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';
import { call, createApp } from '../helpers/security.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
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
      const ep = endpointWithSecrets(appId);
      let s = await open([k1]);
      await s.createEndpoint(ep);
      await s.auth.createSigningKey({ kid: 'k', alg: 'ES256', privateJwk: '{"d":"x"}', publicJwk: '{}', createdAt: T0, retiredAt: null });
      // A row written before encryption was on.
      const legacy = { ...endpointWithSecrets(appId), id: newId('endpoint', T0 + 1) };
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

/**
 * OAuth 2.0 client credentials: the token endpoint, JWTs verified against the published
 * JWKS by an independent verifier, refusal of forged or stale tokens, signing key rotation
 * without downtime, and revocation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, generateKeyPair, importJWK, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { ApplicationService } from '../../src/catalog/applications.js';
import { OAuthService } from '../../src/access/oauth.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp, oauthToken } from '../helpers/security.js';
import { rawRows } from '../helpers/raw-db.js';

type KeyLike = Parameters<SignJWT['sign']>[0];

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

describe('OAuth 2.0 client credentials', () => {
  let server: TestServer;
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let appA: string;
  let appB: string;
  let issuer: string;

  before(async () => {
    server = await startServer({ SWITCHBOARD_OAUTH_TOKEN_TTL_SECONDS: '600' }, { clock });
    appA = await createApp(server, 'A');
    appB = await createApp(server, 'B');
    issuer = server.url.replace('127.0.0.1', 'localhost');
  });
  after(async () => server.close());

  async function tokenRequest(body: string, headers: Record<string, string> = {}) {
    const r = await fetch(server.url + '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    return { status: r.status, body: (await r.json()) as any, headers: r.headers };
  }

  /** The current private signing key, to forge tokens that differ from real ones in one claim only. */
  async function signingKey(): Promise<{ kid: string; key: KeyLike }> {
    const keys = await server.sb.store.auth.listSigningKeys();
    const current = keys.find((k) => k.retiredAt === null)!;
    return { kid: current.kid, key: await importJWK(JSON.parse(current.privateJwk) as JWK, 'ES256') };
  }

  it('issues a short-lived ES256 JWT that an independent verifier accepts against the JWKS', async () => {
    const { token, clientId } = await oauthToken(server, ['read', 'publish'], appA);
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'at+jwt');
    assert.ok(header.kid);
    for (const path of ['/.well-known/jwks.json', '/oauth/jwks']) {
      const jwks = (await call(server, 'GET', path)).body;
      assert.ok(jwks.keys.every((k: any) => k.d === undefined), 'no private parts published');
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: 'switchboard', currentDate: new Date(clock.now()) });
      assert.equal(payload.sub, clientId);
      assert.equal(payload.app_id, appA);
      assert.equal(payload.scope, 'publish read');
      assert.equal(payload.exp! - payload.iat!, 600);
    }
    const meta = (await call(server, 'GET', '/.well-known/oauth-authorization-server')).body;
    assert.equal(meta.token_endpoint, issuer + '/oauth/token');
    assert.deepEqual(meta.grant_types_supported, ['client_credentials']);
  });

  it('the token acts within its scopes and its application only', async () => {
    const { token } = await oauthToken(server, ['read', 'publish'], appA);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}/msg`, { token })).status, 200);
    assert.equal((await call(server, 'POST', `/api/v1/app/${appA}/msg`, { token, body: { eventType: 'o.t', payload: {} } })).status, 202);
    assert.equal((await call(server, 'PATCH', `/api/v1/app/${appA}`, { token, body: { name: 'x' } })).status, 403);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appB}`, { token })).status, 404);
    assert.equal((await call(server, 'GET', '/api/v1/app', { token })).status, 403);
    const admin = await oauthToken(server, ['admin']);
    assert.equal((await call(server, 'GET', '/api/v1/app', { token: admin.token })).status, 200);
  });

  it('authenticates clients by HTTP Basic or by the body, asks for a subset of scopes, and says no clearly', async () => {
    const c = await server.api('POST', '/api/v1/oauth/client', { name: 'c', scopes: ['read', 'write'], appId: appA });
    assert.equal(c.status, 201);
    assert.match(c.body.clientSecret, /^sbcs_[A-Za-z0-9_-]{43}$/);
    const id: string = c.body.id;
    const secret: string = c.body.clientSecret;
    const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
    const viaBasic = await tokenRequest(form({ grant_type: 'client_credentials', scope: 'read' }), { authorization: basic });
    assert.equal(viaBasic.status, 200);
    assert.equal(viaBasic.body.token_type, 'Bearer');
    assert.equal(viaBasic.body.scope, 'read');
    assert.equal(viaBasic.headers.get('cache-control'), 'no-store');
    assert.equal((await call(server, 'PATCH', `/api/v1/app/${appA}`, { token: viaBasic.body.access_token, body: { name: 'x' } })).status, 403, 'only the asked scope');
    const viaJson = await fetch(server.url + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
    });
    assert.equal(viaJson.status, 200);

    const wrong = await tokenRequest(form({ grant_type: 'client_credentials', client_id: id, client_secret: secret.slice(0, -1) + 'x' }));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const unknown = await tokenRequest(form({ grant_type: 'client_credentials', client_id: 'client_nope', client_secret: secret }));
    assert.deepEqual([unknown.status, unknown.body.error, unknown.body.error_description], [401, 'invalid_client', wrong.body.error_description], 'no difference to probe');
    const badBasic = await tokenRequest(form({ grant_type: 'client_credentials' }), { authorization: 'Basic ' + Buffer.from(`${id}:nope`).toString('base64') });
    assert.equal(badBasic.status, 401);
    assert.match(badBasic.headers.get('www-authenticate') ?? '', /^Basic/);
    const scope = await tokenRequest(form({ grant_type: 'client_credentials', client_id: id, client_secret: secret, scope: 'admin' }));
    assert.deepEqual([scope.status, scope.body.error], [400, 'invalid_scope']);
    const grant = await tokenRequest(form({ grant_type: 'password', client_id: id, client_secret: secret }));
    assert.deepEqual([grant.status, grant.body.error], [400, 'unsupported_grant_type']);
    const missing = await tokenRequest(form({ client_id: id, client_secret: secret }));
    assert.deepEqual([missing.status, missing.body.error], [400, 'invalid_request']);
    const both = await tokenRequest(form({ grant_type: 'client_credentials', client_id: id, client_secret: secret }), { authorization: basic });
    assert.deepEqual([both.status, both.body.error], [400, 'invalid_request']);
    assert.equal(both.body.code, 'invalid_request', 'the API error shape too');
  });

  it('refuses tokens with alg none, a wrong algorithm, issuer, audience or kid, expired, or tampered', async () => {
    const { token, clientId } = await oauthToken(server, ['read'], appA);
    const ok = async (t: string) => (await call(server, 'GET', `/api/v1/app/${appA}`, { token: t })).status;
    assert.equal(await ok(token), 200);
    const { kid, key } = await signingKey();
    const nowSec = Math.floor(clock.now() / 1000);
    const claims = { client_id: clientId, scope: 'read', app_id: appA };
    const forge = (o: { iss?: string; aud?: string; exp?: number; kid?: string; typ?: string; signWith?: KeyLike; alg?: string; extra?: object } = {}) =>
      new SignJWT({ ...claims, ...(o.extra ?? {}) })
        .setProtectedHeader({ alg: o.alg ?? 'ES256', kid: o.kid ?? kid, typ: o.typ ?? 'at+jwt' })
        .setIssuer(o.iss ?? issuer)
        .setAudience(o.aud ?? 'switchboard')
        .setSubject(clientId)
        .setJti('j' + Math.random())
        .setIssuedAt(nowSec)
        .setExpirationTime(o.exp ?? nowSec + 300)
        .sign(o.signWith ?? key);
    assert.equal(await ok(await forge()), 200, 'control: a well-formed forged token with the real key is accepted');
    assert.equal(await ok(await forge({ iss: 'https://evil.example' })), 401, 'wrong issuer');
    assert.equal(await ok(await forge({ aud: 'someone-else' })), 401, 'wrong audience');
    assert.equal(await ok(await forge({ exp: nowSec - 60 })), 401, 'expired');
    assert.equal(await ok(await forge({ typ: 'JWT' })), 401, 'not an access token');
    assert.equal(await ok(await forge({ kid: 'unknown-kid' })), 401, 'unknown kid');
    const other = await generateKeyPair('ES256');
    assert.equal(await ok(await forge({ signWith: other.privateKey })), 401, 'signed by a key that is not published');
    assert.equal(await ok(await forge({ extra: { app_id: appB } })), 401, 'claims another application');
    assert.equal(await ok(await forge({ extra: { scope: 'admin' } })), 401, 'claims scopes the client does not hold');
    // HS256 keyed with the public key (algorithm confusion).
    const pub = (await call(server, 'GET', '/.well-known/jwks.json')).body.keys.find((k: any) => k.kid === kid);
    const hsKey = new TextEncoder().encode(JSON.stringify(pub));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).setIssuer(issuer).setAudience('switchboard').setSubject(clientId).setJti('x').setIssuedAt(nowSec).setExpirationTime(nowSec + 300).sign(hsKey);
    assert.equal(await ok(hs), 401, 'HS256');
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const payload = { ...claims, iss: issuer, aud: 'switchboard', sub: clientId, jti: 'n', iat: nowSec, exp: nowSec + 300 };
    assert.equal(await ok(`${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(payload)}.`), 401, 'alg none, empty signature');
    assert.equal(await ok(`${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(payload)}.${token.split('.')[2]}`), 401, 'alg none with a signature');
    const [h, p, s] = token.split('.') as [string, string, string];
    const tamperedPayload = b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'read write' });
    assert.equal(await ok(`${h}.${tamperedPayload}.${s}`), 401, 'payload changed after signing');
    clock.advance(600_000 + 6_000);
    assert.equal(await ok(token), 401, 'the real token expires');
  });

  it('rotates signing keys without downtime: old tokens keep working until they expire, then the old key leaves the JWKS', async () => {
    const before = await oauthToken(server, ['read'], appA);
    const oldKid = decodeProtectedHeader(before.token).kid;
    const rotated = await server.api('POST', '/api/v1/oauth/signing-key/rotate');
    assert.equal(rotated.status, 201);
    assert.notEqual(rotated.body.kid, oldKid);
    const afterRotation = await oauthToken(server, ['read'], appA);
    assert.equal(decodeProtectedHeader(afterRotation.token).kid, rotated.body.kid, 'new tokens use the new key');
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: before.token })).status, 200, 'old token still valid');
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: afterRotation.token })).status, 200);
    const kids = (await call(server, 'GET', '/.well-known/jwks.json')).body.keys.map((k: any) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.includes(rotated.body.kid), 'both keys published');
    const listed = (await server.api('GET', '/api/v1/oauth/signing-key')).body.data;
    assert.equal(listed[0].kid, rotated.body.kid);
    assert.ok(listed.find((k: any) => k.kid === oldKid).retiredAt);
    assert.ok(listed.every((k: any) => k.d === undefined && k.privateJwk === undefined));
    clock.advance(600_000 + 120_000);
    const later = (await call(server, 'GET', '/api/v1/oauth/signing-key')).status;
    assert.equal(later, 401, 'admin token needed');
    const after = (await server.api('GET', '/api/v1/oauth/signing-key')).body.data.map((k: any) => k.kid);
    assert.ok(!after.includes(oldKid), 'the retired key is dropped once its tokens have expired');
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: before.token })).status, 401);
  });

  it('revoking a client stops its tokens and its token requests at once', async () => {
    const { token, clientId, clientSecret } = await oauthToken(server, ['read'], appA);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token })).status, 200);
    assert.equal((await server.api('DELETE', `/api/v1/oauth/client/${clientId}`)).status, 204);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token })).status, 401);
    const again = await tokenRequest(form({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }));
    assert.equal(again.status, 401);
    const listed = (await server.api('GET', '/api/v1/oauth/client')).body.data.find((c: any) => c.id === clientId);
    assert.ok(listed.revokedAt);
    assert.equal(listed.clientSecret, undefined);
    const raw = JSON.stringify(await rawRows(server.sb.store, 'SELECT * FROM oauth_clients'));
    assert.ok(!raw.includes(clientSecret.slice(5)), 'client secrets are stored only as hashes');
    const keysRaw = JSON.stringify(await rawRows(server.sb.store, 'SELECT private_jwk FROM oauth_signing_keys'));
    assert.ok(!keysRaw.includes('"d"'), 'private signing keys are sealed at rest');
  });

  it('accepts tokens signed by a key another node rotated to, once it sees the new kid', async () => {
    const otherNode = new OAuthService(server.sb.store, clock, new ApplicationService(server.sb.store, clock), {
      issuer: () => issuer,
      audience: 'switchboard',
      tokenTtlSeconds: 600,
    });
    const warm = await oauthToken(server, ['read'], appA);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: warm.token })).status, 200, 'this node has its keys loaded');
    const { kid } = await otherNode.rotateSigningKey();
    const c = await server.api('POST', '/api/v1/oauth/client', { name: 'n2', scopes: ['read'], appId: appA });
    const t = await otherNode.issueToken(c.body.id, c.body.clientSecret, undefined);
    assert.equal(decodeProtectedHeader(t.access_token).kid, kid);
    clock.advance(5_000);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: t.access_token })).status, 200);
  });
});

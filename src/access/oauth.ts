/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4): clients with hashed secrets exchange them
 * at `POST /oauth/token` for a short-lived JWT access token (RFC 9068 `at+jwt`, ES256)
 * carrying the client's scopes. Signing keys live in the store (private halves sealed), are
 * published as a JWKS, and rotate without downtime: a retired key stops signing but stays
 * published and accepted until every token it signed has expired.
 */
import type { CryptoKey, JWK, JWSHeaderParameters } from 'jose';
import type { Clock } from '../domain/clock.js';
import { AppError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Principal } from './principal.js';
import type { CredentialScope, OAuthClientRecord, SigningKeyRecord } from '../storage/contract/auth.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';
import type { ApplicationService } from '../catalog/applications.js';
import { checkGrant, principalOf } from './api-keys.js';
import type { CredentialGrant } from './api-keys.js';
import { hashToken, newToken, sameHash } from '../security/crypto.js';

/** The only signature algorithm issued and accepted. */
export const JWT_ALG = 'ES256';
/** jose is loaded on the first token signed or checked: a server whose clients use API keys never pays for it. */
const jose = (): Promise<typeof import('jose')> => import('jose');

const JWT_TYPE = 'at+jwt';
const CLIENT_SECRET_PREFIX = 'sbcs_';
/** How long loaded keys are used before the store is read again (other nodes may rotate). */
const KEY_CACHE_MS = 60_000;
/** A token naming an unknown `kid` makes this node look again at most this often. */
const UNKNOWN_KID_RELOAD_MS = 5_000;
/** Accepted clock difference between nodes, seconds. */
const CLOCK_TOLERANCE_S = 5;
const SCOPE_WORDS: readonly CredentialScope[] = ['admin', 'read', 'write', 'publish'];

export interface OAuthOptions {
  /** `iss` of issued tokens and the only issuer accepted. */
  issuer: () => string;
  /** `aud` of issued tokens and the only audience accepted. */
  audience: string;
  tokenTtlSeconds: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

interface LoadedKeys {
  at: number;
  signing: { kid: string; key: CryptoKey } | null;
  verify: Map<string, CryptoKey>;
  published: JWK[];
}

export class OAuthService {
  private keys: LoadedKeys | null = null;
  private loading: Promise<LoadedKeys> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly applications: ApplicationService,
    private readonly opts: OAuthOptions,
  ) {}

  // ---- clients

  /** Creates a client; the returned `secret` is the only time it is seen. */
  async createClient(input: CredentialGrant & { name: string }): Promise<{ record: OAuthClientRecord; secret: string }> {
    const { appId, scopes } = await checkGrant(input, this.applications);
    const now = this.clock.now();
    const secret = newToken(CLIENT_SECRET_PREFIX);
    const record: OAuthClientRecord = {
      id: newId('oauthClient', now),
      name: input.name,
      secretHash: hashToken(secret),
      appId,
      scopes,
      createdAt: now,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.store.auth.createOAuthClient(record);
    return { record, secret };
  }

  async getClient(id: string): Promise<OAuthClientRecord> {
    const c = await this.store.auth.getOAuthClient(id);
    if (!c) throw notFound('OAuth client');
    return c;
  }

  listClients(q: PageQuery): Promise<Page<OAuthClientRecord>> {
    return this.store.auth.listOAuthClients(q);
  }

  /** Revokes a client: no new tokens, and the tokens it holds stop working at once. */
  async revokeClient(id: string): Promise<void> {
    await this.getClient(id);
    if (!(await this.store.auth.revokeOAuthClient(id, this.clock.now()))) throw new AppError('conflict', 'this OAuth client is already revoked');
  }

  // ---- tokens

  /** The client-credentials grant: authenticates the client and issues a token for (a subset of) its scopes. */
  async issueToken(clientId: string, clientSecret: string, requestedScope: string | undefined): Promise<TokenResponse> {
    const client = clientId ? await this.store.auth.getOAuthClient(clientId) : null;
    // One answer for unknown client, wrong secret and revoked client: nothing to probe.
    if (!client || client.revokedAt !== null || !sameHash(hashToken(clientSecret), client.secretHash)) {
      throw new AppError('invalid_client', 'client authentication failed');
    }
    let scopes = client.scopes;
    if (requestedScope !== undefined && requestedScope.trim() !== '') {
      const asked = [...new Set(requestedScope.trim().split(/ +/))];
      const unknown = asked.filter((s) => !SCOPE_WORDS.includes(s as CredentialScope) || !client.scopes.includes(s as CredentialScope));
      if (unknown.length > 0) throw new AppError('invalid_scope', `scope not granted to this client: ${unknown.join(' ')}`);
      scopes = (asked as CredentialScope[]).sort();
    }
    const now = this.clock.now();
    const nowSec = Math.floor(now / 1000);
    const { kid, key } = await this.signingKey();
    const { SignJWT } = await jose();
    const claims: Record<string, unknown> = { client_id: client.id, scope: scopes.join(' ') };
    if (client.appId) claims.app_id = client.appId;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: JWT_ALG, kid, typ: JWT_TYPE })
      .setIssuer(this.opts.issuer())
      .setAudience(this.opts.audience)
      .setSubject(client.id)
      .setJti(newToken(''))
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + this.opts.tokenTtlSeconds)
      .sign(key);
    await this.store.auth.touchOAuthClient(client.id, now);
    return { access_token: token, token_type: 'Bearer', expires_in: this.opts.tokenTtlSeconds, scope: scopes.join(' ') };
  }

  /** Token resolver for `Auth`: accepts our JWTs, signed by a published key, for a live client. */
  readonly resolve = async (token: string): Promise<Principal | null> => {
    if (!token.startsWith('eyJ') || token.split('.').length !== 3) return null;
    let payload: Record<string, unknown>;
    const { jwtVerify } = await jose();
    try {
      ({ payload } = await jwtVerify(token, this.keyFor, {
        algorithms: [JWT_ALG],
        issuer: this.opts.issuer(),
        audience: this.opts.audience,
        typ: JWT_TYPE,
        currentDate: new Date(this.clock.now()),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      }));
    } catch {
      return null;
    }
    const client = typeof payload.sub === 'string' ? await this.store.auth.getOAuthClient(payload.sub) : null;
    if (!client || client.revokedAt !== null) return null;
    if ((payload.app_id ?? null) !== client.appId) return null;
    const granted = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    // Never more than the client holds now, whatever the token says.
    const scopes = client.scopes.filter((s) => granted.includes(s));
    if (scopes.length === 0) return null;
    return principalOf(client.id, client.appId, scopes);
  };

  private readonly keyFor = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const kid = header.kid;
    if (!kid) throw new Error('no kid');
    let keys = await this.loaded();
    if (!keys.verify.has(kid) && this.clock.now() - keys.at >= UNKNOWN_KID_RELOAD_MS) keys = await this.reload();
    const key = keys.verify.get(kid);
    if (!key) throw new Error('unknown kid');
    return key;
  };

  // ---- signing keys

  /** The JSON Web Key Set of every key whose tokens may still be live. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.loaded()).published };
  }

  /** Signing keys, newest first, without their private halves. */
  async signingKeys(): Promise<{ kid: string; alg: string; createdAt: number; retiredAt: number | null }[]> {
    await this.reload(); // prunes keys no live token can carry
    return (await this.store.auth.listSigningKeys()).map((k) => ({ kid: k.kid, alg: k.alg, createdAt: k.createdAt, retiredAt: k.retiredAt }));
  }

  /** Makes a new signing key current; the previous ones keep verifying until their tokens expire. */
  async rotateSigningKey(): Promise<{ kid: string }> {
    const { calculateJwkThumbprint, exportJWK, generateKeyPair } = await jose();
    const { privateKey, publicKey } = await generateKeyPair(JWT_ALG, { extractable: true });
    const pub = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(pub);
    const now = this.clock.now();
    const record: SigningKeyRecord = {
      kid,
      alg: JWT_ALG,
      privateJwk: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: JWT_ALG }),
      publicJwk: JSON.stringify({ ...pub, kid, alg: JWT_ALG, use: 'sig' }),
      createdAt: now,
      retiredAt: null,
    };
    await this.store.auth.createSigningKey(record);
    await this.store.auth.retireSigningKeysExcept(kid, now);
    await this.reload();
    return { kid };
  }

  private async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    const keys = await this.loaded();
    if (keys.signing) return keys.signing;
    await this.rotateSigningKey();
    const fresh = await this.loaded();
    if (!fresh.signing) throw new Error('no signing key after rotation');
    return fresh.signing;
  }

  private async loaded(): Promise<LoadedKeys> {
    if (this.keys && this.clock.now() - this.keys.at < KEY_CACHE_MS) return this.keys;
    return this.reload();
  }

  private reload(): Promise<LoadedKeys> {
    this.loading ??= this.read().finally(() => (this.loading = null));
    return this.loading;
  }

  private async read(): Promise<LoadedKeys> {
    const now = this.clock.now();
    // A retired key is kept while a token it signed may be live (plus the cache period of other nodes).
    await this.store.auth.pruneSigningKeys(now - (this.opts.tokenTtlSeconds * 1000 + KEY_CACHE_MS + CLOCK_TOLERANCE_S * 1000));
    const records = await this.store.auth.listSigningKeys();
    const { importJWK } = await jose();
    const verify = new Map<string, CryptoKey>();
    const published: JWK[] = [];
    let signing: LoadedKeys['signing'] = null;
    for (const r of records) {
      const pub = JSON.parse(r.publicJwk) as JWK;
      verify.set(r.kid, (await importJWK(pub, JWT_ALG)) as CryptoKey);
      published.push(pub);
      if (!signing && r.retiredAt === null) signing = { kid: r.kid, key: (await importJWK(JSON.parse(r.privateJwk) as JWK, JWT_ALG)) as CryptoKey };
    }
    this.keys = { at: now, signing, verify, published };
    return this.keys;
  }
}

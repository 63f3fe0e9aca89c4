/**
 * Storage of credentials: API keys, OAuth clients and their signing keys, app-portal tokens.
 * Tokens and client secrets are stored only as SHA-256 hashes; signing keys' private halves
 * are sealed with the store's SecretBox. Exposed on the Store as `store.auth`.
 */
import type { Page, PageQuery } from './paging.js';

/** `admin` (organisation-wide) or the per-application scopes `read`, `write`, `publish`. */
export type CredentialScope = 'admin' | 'read' | 'write' | 'publish';

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, shown in lists so people can tell keys apart. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  /** The application the key is limited to, or null for an admin key. */
  appId: string | null;
  scopes: CredentialScope[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface OAuthClientRecord {
  /** The `client_id`. */
  id: string;
  name: string;
  /** SHA-256 of the client secret, hex. */
  secretHash: string;
  appId: string | null;
  scopes: CredentialScope[];
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Private JWK as JSON (sealed at rest). */
  privateJwk: string;
  /** Public JWK as JSON, published in the JWKS. */
  publicJwk: string;
  createdAt: number;
  /** When it stopped signing; it stays published until tokens it signed have expired. */
  retiredAt: number | null;
}

export interface PortalTokenRecord {
  id: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  appId: string;
  /** `read`, or `read` and `write`. */
  scopes: CredentialScope[];
  sessionId: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface SecretScan {
  /** Sealed values found, by key id. */
  byKey: Record<string, number>;
  /** Values re-sealed under the current key (or sealed for the first time). */
  rewrapped: number;
  /** Sealed-looking values no key of the ring opens (left as they are). */
  unopened: number;
}

export interface AuthStore {
  createApiKey(k: ApiKeyRecord): Promise<void>;
  apiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  getApiKey(id: string): Promise<ApiKeyRecord | null>;
  listApiKeys(q: PageQuery & { appId?: string | undefined }): Promise<Page<ApiKeyRecord>>;
  /** Marks the key revoked; false if it does not exist or already was. */
  revokeApiKey(id: string, nowMs: number): Promise<boolean>;
  touchApiKey(id: string, nowMs: number): Promise<void>;

  createOAuthClient(c: OAuthClientRecord): Promise<void>;
  getOAuthClient(id: string): Promise<OAuthClientRecord | null>;
  listOAuthClients(q: PageQuery): Promise<Page<OAuthClientRecord>>;
  revokeOAuthClient(id: string, nowMs: number): Promise<boolean>;
  touchOAuthClient(id: string, nowMs: number): Promise<void>;

  createSigningKey(k: SigningKeyRecord): Promise<void>;
  /** Every signing key not yet pruned, newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Retires every key but `kid` that still signs. */
  retireSigningKeysExcept(kid: string, nowMs: number): Promise<void>;
  /** Deletes keys retired before `beforeMs` (no live token can carry them). */
  pruneSigningKeys(beforeMs: number): Promise<number>;

  createPortalToken(t: PortalTokenRecord): Promise<void>;
  portalTokenByHash(hash: string): Promise<PortalTokenRecord | null>;
  revokePortalToken(id: string, nowMs: number): Promise<void>;
  /** Brings the expiry of the application's live tokens forward to `atMs` (only those of `sessionIds`, if given). */
  expirePortalTokens(appId: string, atMs: number, sessionIds: string[] | null, nowMs: number): Promise<number>;

  /**
   * Re-seals every sealed secret in the database under the store's current key (and seals
   * plaintext secret columns), for key rotation. Also reports which keys sealed what.
   */
  rewrapSecrets(): Promise<SecretScan>;
}

/**
 * API keys: random bearer tokens with a readable prefix, shown once and stored only as a
 * hash; scoped to the organisation (`admin`) or to one application (`read`, `write`,
 * `publish`); optionally expiring; revocable; with the time they were last used.
 */
import type { Clock } from '../domain/clock.js';
import { AppError, invalid, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { AppScope, Principal } from './principal.js';
import type { ApiKeyRecord, CredentialScope } from '../storage/contract/auth.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';
import type { ApplicationService } from '../catalog/applications.js';
import { hashToken, newToken } from '../security/crypto.js';

/** Every API key starts with this; the rest is 32 random bytes in base64url. */
export const API_KEY_PREFIX = 'sbk_';
/** Characters of a key kept in clear to tell keys apart in lists. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;
/** `last used` is written at most this often per key, to keep reads off the write path. */
const TOUCH_INTERVAL_MS = 60_000;

export interface CredentialGrant {
  scopes: CredentialScope[];
  /** Application id or uid; required for application scopes, absent for `admin`. */
  appId?: string | null | undefined;
}

/** Checks a set of scopes and resolves the application; returns what is stored. */
export async function checkGrant(
  g: CredentialGrant,
  applications: ApplicationService,
  loc: string[] = ['body'],
): Promise<{ appId: string | null; scopes: CredentialScope[] }> {
  const scopes = [...new Set(g.scopes)].sort();
  if (scopes.length === 0) throw invalid([...loc, 'scopes'], 'at least one scope is needed');
  if (scopes.includes('admin')) {
    if (scopes.length > 1) throw invalid([...loc, 'scopes'], '`admin` covers everything and cannot be combined with application scopes');
    if (g.appId) throw invalid([...loc, 'appId'], 'an admin credential is not limited to an application; leave appId out');
    return { appId: null, scopes };
  }
  if (!g.appId) throw invalid([...loc, 'appId'], 'application scopes need the application: set appId');
  const app = await applications.find(g.appId);
  if (!app) throw notFound('Application');
  return { appId: app.id, scopes };
}

/** The principal a stored grant stands for. */
export function principalOf(credentialId: string, appId: string | null, scopes: readonly CredentialScope[]): Principal {
  if (appId === null) return { kind: 'admin', credentialId };
  return { kind: 'app', credentialId, appId, scopes: new Set(scopes.filter((s): s is AppScope => s !== 'admin')) };
}

export interface ApiKeyInput extends CredentialGrant {
  name: string;
  expiresAt?: number | null | undefined;
}

export class ApiKeyService {
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly applications: ApplicationService,
  ) {}

  /** Creates a key; the returned `key` is the only time the secret is seen. */
  async create(input: ApiKeyInput): Promise<{ record: ApiKeyRecord; key: string }> {
    const now = this.clock.now();
    const { appId, scopes } = await checkGrant(input, this.applications);
    if (input.expiresAt !== undefined && input.expiresAt !== null && input.expiresAt <= now) {
      throw invalid(['body', 'expiresAt'], 'the expiry must be in the future');
    }
    const key = newToken(API_KEY_PREFIX);
    const record: ApiKeyRecord = {
      id: newId('apiKey', now),
      name: input.name,
      prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      hash: hashToken(key),
      appId,
      scopes,
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.store.auth.createApiKey(record);
    return { record, key };
  }

  async get(id: string): Promise<ApiKeyRecord> {
    const k = await this.store.auth.getApiKey(id);
    if (!k) throw notFound('API key');
    return k;
  }

  list(q: PageQuery & { appId?: string | undefined }): Promise<Page<ApiKeyRecord>> {
    return this.store.auth.listApiKeys(q);
  }

  /** Revokes a key: it stops working at once on this node and on the next lookup elsewhere. */
  async revoke(id: string): Promise<void> {
    await this.get(id);
    if (!(await this.store.auth.revokeApiKey(id, this.clock.now()))) throw new AppError('conflict', 'this API key is already revoked');
  }

  /** Token resolver for `Auth`: recognises live API keys. */
  readonly resolve = async (token: string): Promise<Principal | null> => {
    if (!token.startsWith(API_KEY_PREFIX)) return null;
    // Found by the hash of the whole key: the database compares hashes, never the key itself.
    const k = await this.store.auth.apiKeyByHash(hashToken(token));
    const now = this.clock.now();
    if (!k || k.revokedAt !== null || (k.expiresAt !== null && k.expiresAt <= now)) return null;
    if (now - (this.touched.get(k.id) ?? 0) >= TOUCH_INTERVAL_MS) {
      this.touched.set(k.id, now);
      await this.store.auth.touchApiKey(k.id, now);
    }
    return principalOf(k.id, k.appId, k.scopes);
  };
}

/**
 * App-portal access: expiring bearer tokens limited to one application, handed to that
 * application's owner (a customer) as a link to the consumer portal. Read-only or
 * read-write; expirable all at once (or per session); a token can log itself out.
 */
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Principal } from './principal.js';
import type { CredentialScope } from '../storage/contract/auth.js';
import type { Store } from '../storage/contract/store.js';
import type { ApplicationInput, ApplicationService } from '../catalog/applications.js';
import { principalOf } from './api-keys.js';
import { hashToken, newToken } from '../security/crypto.js';

/** Every portal token starts with this (as in the compatible API). */
export const PORTAL_TOKEN_PREFIX = 'appsk_';
export const PORTAL_DEFAULT_EXPIRY_S = 7 * 24 * 3600;
/** Capabilities that change things; a token with none of them is read-only. */
const WRITE_CAPABILITIES = new Set(['ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint']);

export interface PortalAccessInput {
  application?: ApplicationInput | null | undefined;
  readOnly?: boolean | null | undefined;
  capabilities?: string[] | null | undefined;
  /** Seconds the token is valid. */
  expiry?: number | null | undefined;
  sessionId?: string | null | undefined;
}

export class AppPortalService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly applications: ApplicationService,
    /** Base URL of this server as users reach it, for the portal link. */
    private readonly publicUrl: () => string,
  ) {}

  /** Issues a portal token for the application (creating it if `application` is given and it does not exist). */
  async access(appIdOrUid: string, input: PortalAccessInput): Promise<{ url: string; token: string }> {
    let app = await this.applications.find(appIdOrUid);
    if (!app && input.application) app = (await this.applications.create({ ...input.application, uid: input.application.uid ?? appIdOrUid }, true)).app;
    if (!app) throw new AppError('not_found', 'Application not found');
    const readOnly =
      input.readOnly === true || (Array.isArray(input.capabilities) && !input.capabilities.some((c) => WRITE_CAPABILITIES.has(c)));
    const scopes: CredentialScope[] = readOnly ? ['read'] : ['read', 'write'];
    const now = this.clock.now();
    const token = newToken(PORTAL_TOKEN_PREFIX);
    await this.store.auth.createPortalToken({
      id: newId('portalToken', now),
      hash: hashToken(token),
      appId: app.id,
      scopes,
      sessionId: input.sessionId ?? null,
      createdAt: now,
      expiresAt: now + (input.expiry ?? PORTAL_DEFAULT_EXPIRY_S) * 1000,
      revokedAt: null,
    });
    // The token travels in the fragment: browsers never send it to a server or in a Referer.
    const url = `${this.publicUrl().replace(/\/+$/, '')}/portal#token=${encodeURIComponent(token)}&app_id=${encodeURIComponent(app.id)}`;
    return { url, token };
  }

  /** Expires the application's portal tokens `delaySeconds` from now (only those of `sessionIds`, if given). */
  async expireAll(appIdOrUid: string, delaySeconds: number, sessionIds: string[] | null): Promise<number> {
    const app = await this.applications.get(appIdOrUid);
    const now = this.clock.now();
    return this.store.auth.expirePortalTokens(app.id, now + delaySeconds * 1000, sessionIds, now);
  }

  /** Logs out the calling portal token. */
  async logout(p: Principal | null): Promise<void> {
    if (!p || !p.credentialId.startsWith('portal_')) {
      throw new AppError('bad_request', 'only app-portal tokens log out; revoke API keys and OAuth clients through their own routes');
    }
    await this.store.auth.revokePortalToken(p.credentialId, this.clock.now());
  }

  /** Token resolver for `Auth`: recognises live portal tokens. */
  readonly resolve = async (token: string): Promise<Principal | null> => {
    if (!token.startsWith(PORTAL_TOKEN_PREFIX)) return null;
    const t = await this.store.auth.portalTokenByHash(hashToken(token));
    if (!t || t.revokedAt !== null || t.expiresAt <= this.clock.now()) return null;
    return principalOf(t.id, t.appId, t.scopes);
  };
}

/** Polling endpoints: their management and their tokens, which can read one endpoint only. */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { checkUid } from '../../domain/uid.js';
import type { Metadata } from '../../domain/model.js';
import type { PollerToken, PollingEndpoint, PullStore } from '../../storage/contract/pull.js';
import type { Page, PageQuery } from '../../storage/contract/store.js';
import { KeptLookups } from './poller-lookups.js';

export interface PollingEndpointInput {
  uid?: string | null | undefined;
  description?: string | undefined;
  eventTypes?: string[] | null | undefined;
  channels?: string[] | null | undefined;
  metadata?: Metadata | undefined;
}

/** Who a poller token is: one polling endpoint of one application (a `Principal` of `Auth`). */
export interface PollerIdentity {
  kind: 'poller';
  credentialId: string;
  appId: string;
  pollerId: string;
}

export interface RotateInput {
  /** Lifetime of the new token in seconds; null or absent: no expiry. */
  expiry?: number | null | undefined;
  /** Seconds the previous tokens keep working (0 revokes them now). */
  oldTokenExpiry?: number | undefined;
}

/** Every poller token starts with this, so a leaked one is recognisable and resolving is cheap. */
export const POLLER_TOKEN_PREFIX = 'sb_poller_';
const DEFAULT_OLD_TOKEN_EXPIRY_S = 300;

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** What a poller request needs of its token (the token itself is not kept). */
type TokenGrant = Pick<PollerToken, 'id' | 'appId' | 'pollingEndpointId' | 'expiresAt'>;
const nonEmpty = (l: string[] | null | undefined): string[] | null => (l && l.length > 0 ? [...new Set(l)] : null);

export class PollingEndpointService {
  /** Poller tokens by hash, and polling endpoints by application and id or uid, for poller requests. */
  private readonly tokens: KeptLookups<TokenGrant>;
  private readonly readables: KeptLookups<PollingEndpoint>;

  constructor(
    private readonly store: PullStore,
    private readonly clock: Clock,
  ) {
    this.tokens = new KeptLookups(() => clock.now());
    this.readables = new KeptLookups(() => clock.now());
  }

  /**
   * Forgets what poller requests looked up of the application (all when no id is given):
   * its polling endpoints or tokens changed, here or on another node.
   */
  invalidate(appId?: string): void {
    this.tokens.invalidate(appId);
    this.readables.invalidate(appId);
  }

  async create(appId: string, input: PollingEndpointInput): Promise<PollingEndpoint> {
    checkUid(input.uid, ['body', 'uid']);
    const now = this.clock.now();
    const pe: PollingEndpoint = {
      id: newId('pollingEndpoint', now),
      appId,
      uid: input.uid ?? null,
      description: input.description ?? '',
      eventTypes: nonEmpty(input.eventTypes),
      channels: nonEmpty(input.channels),
      metadata: input.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createPollingEndpoint(pe, this.newToken(pe, null));
    return pe;
  }

  async get(appId: string, idOrUid: string): Promise<PollingEndpoint> {
    const pe = await this.store.getPollingEndpoint(appId, idOrUid);
    if (!pe) throw notFound('Polling endpoint');
    return pe;
  }

  /**
   * The polling endpoint a request may read: a caller holding a poller token (`pollerId`)
   * reaches only its own endpoint, and any other is "not found", as a missing one is.
   * Looked up through the short-lived cache of poller requests.
   */
  async readable(pollerId: string | null, appId: string, idOrUid: string): Promise<PollingEndpoint> {
    const pe = await this.readables.get(`${appId}\u0000${idOrUid}`, () => this.store.getPollingEndpoint(appId, idOrUid));
    if (!pe) throw notFound('Polling endpoint');
    if (pollerId !== null && pollerId !== pe.id) throw notFound('Polling endpoint');
    return pe;
  }

  list(appId: string, q: PageQuery): Promise<Page<PollingEndpoint>> {
    return this.store.listPollingEndpoints(appId, q);
  }

  async patch(appId: string, idOrUid: string, patch: PollingEndpointInput): Promise<PollingEndpoint> {
    const pe = { ...(await this.get(appId, idOrUid)), updatedAt: this.clock.now() };
    if (patch.uid !== undefined && patch.uid !== pe.uid) {
      checkUid(patch.uid, ['body', 'uid']);
      pe.uid = patch.uid;
    }
    if (patch.description !== undefined) pe.description = patch.description;
    if (patch.eventTypes !== undefined) pe.eventTypes = nonEmpty(patch.eventTypes);
    if (patch.channels !== undefined) pe.channels = nonEmpty(patch.channels);
    if (patch.metadata !== undefined) pe.metadata = patch.metadata;
    await this.store.updatePollingEndpoint(pe);
    this.invalidate(appId);
    return pe;
  }

  async delete(appId: string, idOrUid: string): Promise<void> {
    const pe = await this.get(appId, idOrUid);
    await this.store.deletePollingEndpoint(appId, pe.id);
    this.invalidate(appId);
  }

  /** The endpoint's current (newest) token. */
  async currentToken(pe: PollingEndpoint): Promise<PollerToken> {
    const t = await this.store.currentToken(pe.id);
    if (t) return t;
    const fresh = this.newToken(pe, null);
    await this.store.rotateToken(fresh, Number.MAX_SAFE_INTEGER, this.clock.now());
    this.invalidate(pe.appId);
    return fresh;
  }

  /** Issues a new token; older ones keep working for `oldTokenExpiry` seconds (default 300). */
  async rotateToken(pe: PollingEndpoint, input: RotateInput): Promise<PollerToken> {
    const now = this.clock.now();
    const token = this.newToken(pe, input.expiry ? now + input.expiry * 1000 : null);
    await this.store.rotateToken(token, now + (input.oldTokenExpiry ?? DEFAULT_OLD_TOKEN_EXPIRY_S) * 1000, now);
    this.invalidate(pe.appId);
    return token;
  }

  /** The token resolver for `Auth`: a live poller token becomes a poller principal (its lookup kept briefly). */
  async resolveToken(token: string): Promise<PollerIdentity | null> {
    if (!token.startsWith(POLLER_TOKEN_PREFIX)) return null;
    const hash = sha256Hex(token);
    const t = await this.tokens.get(hash, async () => {
      const found = await this.store.findToken(hash);
      return found && { id: found.id, appId: found.appId, pollingEndpointId: found.pollingEndpointId, expiresAt: found.expiresAt };
    });
    if (!t || (t.expiresAt !== null && t.expiresAt <= this.clock.now())) return null;
    return { kind: 'poller', credentialId: t.id, appId: t.appId, pollerId: t.pollingEndpointId };
  }

  private newToken(pe: PollingEndpoint, expiresAt: number | null): PollerToken {
    const now = this.clock.now();
    const token = POLLER_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    return { id: newId('pollerToken', now), pollingEndpointId: pe.id, appId: pe.appId, tokenHash: sha256Hex(token), token, createdAt: now, expiresAt };
  }
}

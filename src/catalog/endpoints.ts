/** Use cases for endpoints: CRUD, headers, secrets, recovery and replay. */
import type { BlockList } from 'node:net';
import type { Clock } from '../domain/clock.js';
import { AppError, invalid, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { checkUid } from '../domain/uid.js';
import { endpointMatches } from '../domain/matching.js';
import { filterMatches, filterSubject } from '../domain/filter.js';
import { validateFilter } from '../domain/filter-regex.js';
import type { Endpoint, EndpointTransformation, Metadata, SecretEntry } from '../domain/model.js';
import { checkHeaders, mergeHeaders, redactHeaders } from '../domain/headers.js';
import { orderingMetadataIssue, orderingOf } from '../domain/ordering.js';
import type { OrderingConfig } from '../domain/ordering.js';
import { SECRET_PREFIX, generateSecret } from '../domain/signature.js';
import type { EndpointStats, Page, PageQuery, PausedKey, Store } from '../storage/contract/store.js';
import { publishEndpointState } from '../engine/channels.js';
import { checkHostAllowed } from './address-check.js';
import { environmentSettings } from './environment-settings.js';

export interface EndpointInput {
  url: string;
  uid?: string | null | undefined;
  description?: string | undefined;
  disabled?: boolean | undefined;
  eventTypes?: string[] | null | undefined;
  channels?: string[] | null | undefined;
  throttleRate?: number | null | undefined;
  metadata?: Metadata | undefined;
  secret?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** Content filter (domain/filter.ts); null removes it. */
  filter?: Record<string, unknown> | null | undefined;
  /** The transformation to start with (an endpoint created from a connector); create only. */
  transformation?: EndpointTransformation | undefined;
}

/** Validates a content filter for saving; `{}` (matches everything) is kept as none. */
async function checkedFilter(filter: Record<string, unknown> | null | undefined): Promise<Record<string, unknown> | null> {
  if (!filter || Object.keys(filter).length === 0) return null;
  await validateFilter(filter);
  return filter;
}

/** Checks the ordering settings kept in reserved metadata keys (domain/ordering.ts). */
function checkedMetadata(metadata: Metadata | undefined): Metadata {
  const m = metadata ?? {};
  const issue = orderingMetadataIssue(m);
  if (issue) throw invalid(['body', 'metadata', issue.key], `${issue.key} ${issue.msg}`);
  return m;
}

/** Default grace during which a rotated-out secret still signs. */
const DEFAULT_ROTATION_GRACE_S = 86_400;

/** An empty filter list means "no filter". */
const nonEmpty = (list: string[] | null | undefined): string[] | null => (list && list.length > 0 ? list : null);

function normaliseSecret(secret: string): string {
  return secret.startsWith(SECRET_PREFIX) ? secret : SECRET_PREFIX + secret;
}

export class EndpointService {
  /** Endpoints per application, for fan-out on publish; dropped on every change. */
  private readonly cache = new Map<string, { at: number; endpoints: Endpoint[] }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly allowedNetworks: BlockList,
    /** How long a cached endpoint list may be used (other nodes' changes show after this). */
    private readonly cacheMs = 1000,
  ) {}

  /** Checks an endpoint URL: http(s), parseable, and not aimed at a refused network. */
  async checkUrl(url: string, loc: string[] = ['body', 'url']): Promise<void> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new AppError('invalid_url', 'url is not a valid absolute URL', [{ loc, msg: 'invalid URL', type: 'value_error.url' }]);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new AppError('invalid_url', 'url must use http or https', [{ loc, msg: 'URL scheme must be http or https', type: 'value_error.url.scheme' }]);
    }
    if (u.username || u.password) {
      throw new AppError('invalid_url', 'url must not carry credentials; use endpoint headers', [{ loc, msg: 'credentials in URL', type: 'value_error.url' }]);
    }
    await checkHostAllowed(u.hostname, this.allowedNetworks, loc, 'url resolves to a private or reserved address');
  }

  /** An endpoint's URL: checkUrl, and https only when the environment's settings say so (`enforceHttps`). */
  private async checkEndpointUrl(url: string): Promise<void> {
    await this.checkUrl(url);
    if (new URL(url).protocol === 'http:' && (await environmentSettings(this.store)).enforceHttps) {
      throw new AppError('invalid_url', 'url must use https: the environment settings enforce it (enforceHttps)', [
        { loc: ['body', 'url'], msg: 'URL scheme must be https (the environment setting enforceHttps)', type: 'value_error.url.scheme' },
      ]);
    }
  }

  /** Endpoints of the application that receive a message of this type and channels. */
  async matching(appId: string, eventType: string, channels: readonly string[] | null): Promise<Endpoint[]> {
    const now = this.clock.now();
    let entry = this.cache.get(appId);
    if (!entry || now - entry.at > this.cacheMs) {
      entry = { at: now, endpoints: await this.store.allEndpoints(appId) };
      this.cache.set(appId, entry);
    }
    return entry.endpoints.filter((ep) => endpointMatches(ep, { eventType, channels }));
  }

  /** Forgets cached endpoints of an application (or all). */
  invalidate(appId?: string): void {
    if (appId) this.cache.delete(appId);
    else this.cache.clear();
  }

  async create(appId: string, input: EndpointInput): Promise<Endpoint> {
    checkUid(input.uid, ['body', 'uid']);
    const metadata = checkedMetadata(input.metadata);
    await this.checkEndpointUrl(input.url);
    const headers = input.headers ? checkHeaders(Object.entries(input.headers), ['body', 'headers']) : {};
    const filter = await checkedFilter(input.filter);
    const now = this.clock.now();
    const ep: Endpoint = {
      id: newId('endpoint', now),
      appId,
      uid: input.uid ?? null,
      url: input.url,
      description: input.description ?? '',
      disabled: input.disabled ?? false,
      eventTypes: nonEmpty(input.eventTypes),
      channels: nonEmpty(input.channels),
      throttleRate: input.throttleRate ?? null,
      metadata,
      headers,
      secrets: [{ key: input.secret ? normaliseSecret(input.secret) : generateSecret(), expiresAt: null }],
      failingSince: null,
      filter,
      ...(input.transformation ? { transformation: input.transformation } : {}),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createEndpoint(ep);
    this.invalidate(appId);
    return ep;
  }

  async get(appId: string, idOrUid: string): Promise<Endpoint> {
    const ep = await this.store.getEndpoint(appId, idOrUid);
    if (!ep) throw notFound('Endpoint');
    return ep;
  }

  list(appId: string, q: PageQuery): Promise<Page<Endpoint>> {
    return this.store.listEndpoints(appId, q);
  }

  private async save(ep: Endpoint): Promise<Endpoint> {
    ep.updatedAt = this.clock.now();
    await this.store.updateEndpoint(ep);
    this.invalidate(ep.appId);
    return ep;
  }

  /** PUT: replaces the endpoint, or creates it with the path's value as uid. */
  async upsert(appId: string, idOrUid: string, input: EndpointInput): Promise<{ ep: Endpoint; created: boolean }> {
    const existing = await this.store.getEndpoint(appId, idOrUid);
    if (!existing) {
      if (input.uid === undefined || input.uid === null) checkUid(idOrUid, ['path', 'endpoint_id']);
      return { ep: await this.create(appId, { ...input, uid: input.uid ?? idOrUid }), created: true };
    }
    if (input.uid !== existing.uid) checkUid(input.uid, ['body', 'uid']);
    const metadata = checkedMetadata(input.metadata);
    await this.checkEndpointUrl(input.url);
    // SDKs know nothing of filters: a replace without `filter` keeps the one saved.
    const filter = input.filter === undefined ? (existing.filter ?? null) : await checkedFilter(input.filter);
    const wasDisabled = existing.disabled;
    const ep: Endpoint = {
      ...existing,
      url: input.url,
      uid: input.uid ?? existing.uid,
      description: input.description ?? '',
      disabled: input.disabled ?? false,
      eventTypes: nonEmpty(input.eventTypes),
      channels: nonEmpty(input.channels),
      throttleRate: input.throttleRate ?? null,
      metadata,
      filter,
    };
    if (wasDisabled && !ep.disabled) ep.failingSince = null;
    return { ep: this.announce(await this.save(ep), wasDisabled), created: false };
  }

  async patch(appId: string, idOrUid: string, patch: Partial<EndpointInput>): Promise<Endpoint> {
    const ep = { ...(await this.get(appId, idOrUid)) };
    const wasDisabled = ep.disabled;
    if (patch.url !== undefined) {
      await this.checkEndpointUrl(patch.url);
      ep.url = patch.url;
    }
    if (patch.uid !== undefined && patch.uid !== ep.uid) {
      checkUid(patch.uid, ['body', 'uid']);
      ep.uid = patch.uid;
    }
    if (patch.description !== undefined) ep.description = patch.description;
    if (patch.disabled !== undefined) ep.disabled = patch.disabled;
    if (patch.eventTypes !== undefined) ep.eventTypes = nonEmpty(patch.eventTypes);
    if (patch.channels !== undefined) ep.channels = nonEmpty(patch.channels);
    if (patch.throttleRate !== undefined) ep.throttleRate = patch.throttleRate === 0 ? null : patch.throttleRate;
    if (patch.metadata !== undefined) ep.metadata = checkedMetadata(patch.metadata);
    if (patch.filter !== undefined) ep.filter = await checkedFilter(patch.filter);
    if (wasDisabled && !ep.disabled) ep.failingSince = null;
    return this.announce(await this.save(ep), wasDisabled);
  }

  /** Publishes a caller's disable or enable (operational webhooks, metrics). */
  private announce(ep: Endpoint, wasDisabled: boolean): Endpoint {
    if (ep.disabled !== wasDisabled) {
      const kind = ep.disabled ? 'disabled' : 'enabled';
      publishEndpointState({ scope: this.store, kind, trigger: 'manual', appId: ep.appId, endpointId: ep.id, endpointUid: ep.uid, failingSince: null, at: ep.updatedAt });
    }
    return ep;
  }

  async delete(appId: string, idOrUid: string): Promise<void> {
    const ep = await this.get(appId, idOrUid);
    await this.store.deleteEndpoint(appId, ep.id);
    this.invalidate(appId);
  }

  async headers(appId: string, idOrUid: string): Promise<{ headers: Record<string, string>; sensitive: string[] }> {
    return redactHeaders((await this.get(appId, idOrUid)).headers);
  }

  /** Replaces the custom headers (`merge`: PATCH semantics, a null value removes a header). */
  async setHeaders(appId: string, idOrUid: string, headers: Record<string, string | null>, merge: boolean): Promise<void> {
    const ep = { ...(await this.get(appId, idOrUid)) };
    ep.headers = mergeHeaders(ep.headers, headers, merge, ['body', 'headers']);
    await this.save(ep);
  }

  async secret(appId: string, idOrUid: string): Promise<string> {
    const ep = await this.get(appId, idOrUid);
    return ep.secrets[0]!.key;
  }

  /** Rotates the signing secret; the previous one keeps signing for the grace period. */
  async rotateSecret(appId: string, idOrUid: string, key: string | null | undefined, graceSeconds: number | undefined): Promise<void> {
    const ep = { ...(await this.get(appId, idOrUid)) };
    const now = this.clock.now();
    const grace = (graceSeconds ?? DEFAULT_ROTATION_GRACE_S) * 1000;
    const kept: SecretEntry[] = ep.secrets
      .map((s) => (s.expiresAt === null ? { key: s.key, expiresAt: now + grace } : s))
      .filter((s) => s.expiresAt !== null && s.expiresAt > now);
    ep.secrets = [{ key: key ? normaliseSecret(key) : generateSecret(), expiresAt: null }, ...kept].slice(0, 5);
    await this.save(ep);
  }

  async stats(appId: string, idOrUid: string, since: number | null, until: number | null): Promise<EndpointStats> {
    const ep = await this.get(appId, idOrUid);
    return this.store.endpointStats(ep.id, since, until);
  }

  /** Sends again every failed delivery of the endpoint created in the window. */
  async recover(appId: string, idOrUid: string, since: number, until: number | null): Promise<number> {
    const ep = await this.get(appId, idOrUid);
    const n = await this.store.recoverFailed(ep.id, since, until, this.clock.now());
    // Failed deliveries from before the endpoint was ordered get their keys now.
    const ordering = orderingOf(ep.metadata);
    if (ordering && n > 0) await this.store.ordering.assignKeys(ep.id, ordering);
    return n;
  }

  /** Creates deliveries for messages in the window that never went to this endpoint and match it. */
  async replayMissing(appId: string, idOrUid: string, since: number, until: number | null): Promise<number> {
    const ep = await this.get(appId, idOrUid);
    if (ep.disabled) throw new AppError('conflict', 'endpoint is disabled; enable it before replaying');
    const missing = await this.store.messagesWithoutDelivery(appId, ep.id, since, until);
    // Received headers are not stored: a filter on headers sees none when replaying.
    const ids = missing
      .filter((m) => endpointMatches(ep, m) && (!ep.filter || filterMatches(ep.filter, filterSubject(m.payload, m.eventType, m.channels))))
      .map((m) => m.id);
    // An ordered endpoint's deliveries are created with their keys and positions: the message's place.
    const ordering = orderingOf(ep.metadata);
    if (ordering) return this.store.ordering.addDeliveries(ep.id, appId, ordering, ids, this.clock.now());
    return this.store.addDeliveries(ep.id, appId, ids, this.clock.now());
  }

  /** The endpoint's ordering settings (null: unordered) and the keys failed deliveries hold. */
  async ordering(appId: string, idOrUid: string, limit: number): Promise<{ endpoint: Endpoint; config: OrderingConfig | null; paused: PausedKey[] }> {
    const ep = await this.get(appId, idOrUid);
    const config = orderingOf(ep.metadata);
    return { endpoint: ep, config, paused: config ? await this.store.ordering.pausedKeys(ep.id, limit) : [] };
  }

  /** Lets a paused key go on past its failed deliveries; 404 when the key is not paused. */
  async resumeKey(appId: string, idOrUid: string, key: string): Promise<Endpoint> {
    const ep = await this.get(appId, idOrUid);
    if (!orderingOf(ep.metadata)) throw new AppError('conflict', 'endpoint is not ordered (metadata "switchboard.ordering" is not set)');
    const n = await this.store.ordering.resume(ep.id, key, this.clock.now());
    if (n === 0) throw notFound('Paused ordering key');
    return ep;
  }

}

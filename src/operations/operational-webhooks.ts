/**
 * Operational webhook endpoints: the operator's own receivers of events about Switchboard
 * itself. Managed like application endpoints, at `/api/v1/operational-webhook/endpoint`.
 */
import type { Clock } from '../domain/clock.js';
import { invalid, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { checkUid } from '../domain/uid.js';
import type { Metadata } from '../domain/model.js';
import { SECRET_PREFIX, generateSecret } from '../domain/signature.js';
import type { OperationalEndpoint } from '../storage/contract/operational-webhooks.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';
import { checkHeaders } from '../domain/headers.js';
import type { EndpointService } from '../catalog/endpoints.js';

/**
 * The operational event types: those of the reference API, and Switchboard's own
 * `storage.degraded` / `storage.recovered` (the database refuses writes, and stores them again).
 */
export const OPERATIONAL_EVENT_TYPES = [
  'background_task.finished',
  'endpoint.disabled',
  'endpoint.enabled',
  'message.attempt.exhausted',
  'message.attempt.failing',
  'message.attempt.recovered',
  /** Switchboard extension: a failed delivery paused its ordering key (docs/ordering.md). */
  'ordering.key.paused',
  'storage.degraded',
  'storage.recovered',
] as const;

export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

export interface OperationalEndpointInput {
  url: string;
  uid?: string | null | undefined;
  description?: string | undefined;
  disabled?: boolean | undefined;
  filterTypes?: string[] | null | undefined;
  throttleRate?: number | null | undefined;
  metadata?: Metadata | undefined;
  secret?: string | null | undefined;
}

/** Header names whose values are secrets; listed as `sensitive` when read back. */
const SENSITIVE_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

function checkTypes(types: string[] | null | undefined): string[] | null {
  if (!types || types.length === 0) return null;
  types.forEach((t, i) => {
    if (!(OPERATIONAL_EVENT_TYPES as readonly string[]).includes(t)) {
      throw invalid(['body', 'filterTypes', i], `unknown operational event type "${t}"; known: ${OPERATIONAL_EVENT_TYPES.join(', ')}`);
    }
  });
  return [...new Set(types)];
}

const normaliseSecret = (s: string): string => (s.startsWith(SECRET_PREFIX) ? s : SECRET_PREFIX + s);

export class OperationalWebhookService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly endpoints: Pick<EndpointService, 'checkUrl'>,
  ) {}

  async create(input: OperationalEndpointInput): Promise<OperationalEndpoint> {
    checkUid(input.uid, ['body', 'uid']);
    await this.endpoints.checkUrl(input.url);
    const now = this.clock.now();
    const ep: OperationalEndpoint = {
      id: newId('endpoint', now),
      uid: input.uid ?? null,
      url: input.url,
      description: input.description ?? '',
      disabled: input.disabled ?? false,
      eventTypes: checkTypes(input.filterTypes),
      throttleRate: input.throttleRate || null,
      metadata: input.metadata ?? {},
      headers: {},
      secret: input.secret ? normaliseSecret(input.secret) : generateSecret(),
      createdAt: now,
      updatedAt: now,
    };
    await this.store.operationalWebhooks.create(ep);
    return ep;
  }

  async get(idOrUid: string): Promise<OperationalEndpoint> {
    const ep = await this.store.operationalWebhooks.get(idOrUid);
    if (!ep) throw notFound('Operational webhook endpoint');
    return ep;
  }

  list(q: PageQuery): Promise<Page<OperationalEndpoint>> {
    return this.store.operationalWebhooks.list(q);
  }

  /** PUT: replaces the endpoint's settings (its secret and headers are kept). */
  async update(idOrUid: string, input: OperationalEndpointInput): Promise<OperationalEndpoint> {
    const existing = await this.get(idOrUid);
    if (input.uid !== undefined && input.uid !== existing.uid) checkUid(input.uid, ['body', 'uid']);
    await this.endpoints.checkUrl(input.url);
    const ep: OperationalEndpoint = {
      ...existing,
      url: input.url,
      uid: input.uid === undefined ? existing.uid : input.uid,
      description: input.description ?? '',
      disabled: input.disabled ?? false,
      eventTypes: checkTypes(input.filterTypes),
      throttleRate: input.throttleRate || null,
      metadata: input.metadata ?? {},
      updatedAt: this.clock.now(),
    };
    await this.store.operationalWebhooks.update(ep);
    return ep;
  }

  async delete(idOrUid: string): Promise<void> {
    const ep = await this.get(idOrUid);
    await this.store.operationalWebhooks.delete(ep.id);
  }

  async secret(idOrUid: string): Promise<string> {
    return (await this.get(idOrUid)).secret;
  }

  /** Replaces the signing secret at once (operators control both ends). */
  async rotateSecret(idOrUid: string, key: string | null | undefined): Promise<void> {
    const ep = await this.get(idOrUid);
    await this.store.operationalWebhooks.update({ ...ep, secret: key ? normaliseSecret(key) : generateSecret(), updatedAt: this.clock.now() });
  }

  async headers(idOrUid: string): Promise<{ headers: Record<string, string>; sensitive: string[] }> {
    const ep = await this.get(idOrUid);
    const headers: Record<string, string> = {};
    const sensitive: string[] = [];
    for (const [k, v] of Object.entries(ep.headers)) {
      if (SENSITIVE_HEADERS.test(k)) sensitive.push(k);
      else headers[k] = v;
    }
    return { headers, sensitive };
  }

  async setHeaders(idOrUid: string, headers: Record<string, string>): Promise<void> {
    const ep = await this.get(idOrUid);
    const checked = checkHeaders(Object.entries(headers), ['body', 'headers']);
    await this.store.operationalWebhooks.update({ ...ep, headers: checked, updatedAt: this.clock.now() });
  }
}

/** Operational webhook endpoints: the operator's receivers of events about Switchboard itself. */
import { seg } from './http.js';
import type { Http } from './http.js';
import type { OperationalWebhookEndpointCreate, OperationalWebhookEndpointOut, OperationalWebhookEndpointPage } from './generated/types.js';

/** The operational events, and the `data` each carries. */
export type OperationalEvent =
  | { type: 'endpoint.disabled'; timestamp: string; data: EndpointRef & { failSince: string; trigger: 'automatic' | 'manual' } }
  | { type: 'endpoint.enabled'; timestamp: string; data: EndpointRef }
  | { type: 'message.attempt.exhausted' | 'message.attempt.failing' | 'message.attempt.recovered'; timestamp: string; data: AttemptRef }
  | { type: 'storage.degraded'; timestamp: string; data: { reason: StorageFaultReason; code: string; detail: string; since: string } }
  | { type: 'storage.recovered'; timestamp: string; data: { reason: StorageFaultReason; since: string; recoveredAt: string } };

/** Why the database refuses writes: no space, read-only, failing storage, out of resources. */
export type StorageFaultReason = 'full' | 'read_only' | 'io_error' | 'unavailable';

export interface EndpointRef {
  appId: string;
  appUid: string | null;
  endpointId: string;
  endpointUid: string | null;
}

export interface AttemptRef {
  appId: string;
  appUid: string | null;
  msgId: string;
  msgEventId: string | null;
  endpointId: string;
  lastAttempt: { id: string; responseStatusCode: number; timestamp: string };
}

export class OperationalWebhooks {
  constructor(private readonly http: Http) {}

  create(body: OperationalWebhookEndpointCreate): Promise<OperationalWebhookEndpointOut> {
    return this.http.request('POST', '/api/v1/operational-webhook/endpoint', { body });
  }

  list(o: { limit?: number; iterator?: string } = {}): Promise<OperationalWebhookEndpointPage> {
    return this.http.request('GET', '/api/v1/operational-webhook/endpoint', { query: o });
  }

  get(id: string): Promise<OperationalWebhookEndpointOut> {
    return this.http.request('GET', `/api/v1/operational-webhook/endpoint/${seg(id)}`);
  }

  async delete(id: string): Promise<void> {
    await this.http.request('DELETE', `/api/v1/operational-webhook/endpoint/${seg(id)}`);
  }

  async secret(id: string): Promise<string> {
    return (await this.http.request<{ key: string }>('GET', `/api/v1/operational-webhook/endpoint/${seg(id)}/secret`)).key;
  }
}

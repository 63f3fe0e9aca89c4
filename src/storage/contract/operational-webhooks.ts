/**
 * Storage of operational webhook endpoints: the operator's own receivers of events about
 * Switchboard itself (an endpoint was disabled, a message exhausted its retries ...).
 */
import type { Metadata } from '../../domain/model.js';
import type { Page, PageQuery } from './paging.js';

export interface OperationalEndpoint {
  id: string;
  uid: string | null;
  url: string;
  description: string;
  disabled: boolean;
  /** Operational event types it receives; null means all. */
  eventTypes: string[] | null;
  /** Most requests per second to this endpoint; null means no limit. */
  throttleRate: number | null;
  metadata: Metadata;
  headers: Record<string, string>;
  /** The `whsec_` signing secret. */
  secret: string;
  createdAt: number;
  updatedAt: number;
}

export interface OperationalWebhookStore {
  /** Creates an endpoint; a duplicate uid is a conflict (409). */
  create(ep: OperationalEndpoint): Promise<void>;
  /** By id or uid. */
  get(idOrUid: string): Promise<OperationalEndpoint | null>;
  list(q: PageQuery): Promise<Page<OperationalEndpoint>>;
  /** Every endpoint, for fan-out of one event. */
  all(): Promise<OperationalEndpoint[]>;
  /** Saves every field of the endpoint; a duplicate uid is a conflict (409). */
  update(ep: OperationalEndpoint): Promise<void>;
  delete(id: string): Promise<void>;
}

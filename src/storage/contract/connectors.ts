/**
 * Storage of connectors: organisation-wide transformation templates (docs/api.md,
 * "Connectors"), and the all-or-nothing write of an environment import. Exposed on the
 * Store as `store.connectors`.
 */
import type { EventType } from '../../domain/model.js';
import type { Page, PageQuery } from './paging.js';

export type ConnectorProduct = 'Dispatch' | 'Stream';

export interface ConnectorRecord {
  id: string;
  uid: string | null;
  name: string;
  description: string;
  instructions: string;
  /** One of the SDK's ConnectorKind values (`Custom`, `Slack`, ...). */
  kind: string;
  logo: string | null;
  productType: ConnectorProduct;
  /** JavaScript source of the transformation. */
  transformation: string;
  featureFlags: string[] | null;
  allowedEventTypes: string[] | null;
  createdAt: number;
  updatedAt: number;
  transformationUpdatedAt: number;
}

/** What an environment import writes: rows to insert and rows to replace, of both kinds, and settings to save. */
export interface EnvironmentWrite {
  createEventTypes: EventType[];
  updateEventTypes: EventType[];
  createConnectors: ConnectorRecord[];
  updateConnectors: ConnectorRecord[];
  /** Settings to save, by name (environment-settings.ts), and when. */
  settings?: { values: Record<string, unknown>; at: number } | undefined;
}

export interface ConnectorStore {
  /** A taken uid is a 409. */
  create(c: ConnectorRecord): Promise<void>;
  /** By id or uid. */
  get(idOrUid: string): Promise<ConnectorRecord | null>;
  list(q: PageQuery & { productType?: ConnectorProduct | undefined }): Promise<Page<ConnectorRecord>>;
  /** Every connector, oldest first (for export). */
  all(): Promise<ConnectorRecord[]>;
  /** Saves every field but id and createdAt; a taken uid is a 409. */
  update(c: ConnectorRecord): Promise<void>;
  /** False if there was none. */
  delete(id: string): Promise<boolean>;
  /** Writes an environment import in one transaction: everything or nothing. */
  applyEnvironment(w: EnvironmentWrite): Promise<void>;
}

/**
 * Storage of integrations: named API credentials of one application. A key is found by its
 * SHA-256 hash and kept sealed too, so that it can be shown again. Exposed on the Store as
 * `store.integrations`; deleting an application deletes its integrations.
 */
import type { Page, PageQuery } from './paging.js';

export interface IntegrationRecord {
  id: string;
  appId: string;
  name: string;
  featureFlags: string[] | null;
  /** SHA-256 of the key, hex. */
  keyHash: string;
  /** The key itself (sealed at rest). */
  key: string;
  createdAt: number;
  updatedAt: number;
}

export interface IntegrationStore {
  create(i: IntegrationRecord): Promise<void>;
  /** Within the application. */
  get(appId: string, id: string): Promise<IntegrationRecord | null>;
  list(appId: string, q: PageQuery): Promise<Page<IntegrationRecord>>;
  /** Saves name and feature flags. */
  update(i: IntegrationRecord): Promise<void>;
  /** False if there was none. */
  delete(appId: string, id: string): Promise<boolean>;
  /** Replaces the key; the old one stops matching at once. False if there was no such integration. */
  replaceKey(appId: string, id: string, key: string, keyHash: string, nowMs: number): Promise<boolean>;
  byKeyHash(keyHash: string): Promise<IntegrationRecord | null>;
}

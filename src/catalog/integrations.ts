/**
 * Integrations of an application: named API credentials limited to that application (the
 * `svix.integration` family). A key is shown on request (`getKey`), so it is kept sealed as
 * well as hashed; rotating it replaces it at once and the old key stops working.
 */
import type { Clock } from '../domain/clock.js';
import { notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { IntegrationRecord } from '../storage/contract/integrations.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';
import { hashToken, newToken } from '../security/crypto.js';
import type { ApplicationService } from './applications.js';

/** Every integration key starts with this; the rest is 32 random bytes in base64url. */
export const INTEGRATION_KEY_PREFIX = 'sbint_';

export interface IntegrationInput {
  name: string;
  featureFlags?: string[] | null | undefined;
}

/** Feature flags as stored: duplicates dropped, an empty list kept as none. */
const flagsOf = (flags: string[] | null | undefined): string[] | null => (flags && flags.length > 0 ? [...new Set(flags)] : null);

export class IntegrationService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly applications: ApplicationService,
  ) {}

  private async appId(appIdOrUid: string): Promise<string> {
    return (await this.applications.get(appIdOrUid)).id;
  }

  async list(appIdOrUid: string, q: PageQuery): Promise<Page<IntegrationRecord>> {
    return this.store.integrations.list(await this.appId(appIdOrUid), q);
  }

  async create(appIdOrUid: string, input: IntegrationInput): Promise<IntegrationRecord> {
    const appId = await this.appId(appIdOrUid);
    const now = this.clock.now();
    const key = newToken(INTEGRATION_KEY_PREFIX);
    const record: IntegrationRecord = {
      id: newId('integration', now),
      appId,
      name: input.name,
      featureFlags: flagsOf(input.featureFlags),
      keyHash: hashToken(key),
      key,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.integrations.create(record);
    return record;
  }

  async get(appIdOrUid: string, id: string): Promise<IntegrationRecord> {
    const i = await this.store.integrations.get(await this.appId(appIdOrUid), id);
    if (!i) throw notFound('Integration');
    return i;
  }

  async update(appIdOrUid: string, id: string, input: IntegrationInput): Promise<IntegrationRecord> {
    const i = { ...(await this.get(appIdOrUid, id)), name: input.name, featureFlags: flagsOf(input.featureFlags), updatedAt: this.clock.now() };
    await this.store.integrations.update(i);
    return i;
  }

  async delete(appIdOrUid: string, id: string): Promise<void> {
    if (!(await this.store.integrations.delete(await this.appId(appIdOrUid), id))) throw notFound('Integration');
  }

  async getKey(appIdOrUid: string, id: string): Promise<string> {
    return (await this.get(appIdOrUid, id)).key;
  }

  /** A new key; the previous one is refused from now on. */
  async rotateKey(appIdOrUid: string, id: string): Promise<string> {
    const i = await this.get(appIdOrUid, id);
    const key = newToken(INTEGRATION_KEY_PREFIX);
    if (!(await this.store.integrations.replaceKey(i.appId, i.id, key, hashToken(key), this.clock.now()))) throw notFound('Integration');
    return key;
  }

  /** The live integration a key belongs to, or null. */
  async byKey(key: string): Promise<IntegrationRecord | null> {
    if (!key.startsWith(INTEGRATION_KEY_PREFIX)) return null;
    return this.store.integrations.byKeyHash(hashToken(key));
  }
}

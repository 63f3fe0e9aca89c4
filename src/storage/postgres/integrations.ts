/** The IntegrationStore on PostgreSQL: the integrations table of migration 0033, keys sealed at rest. */
import type { PgConnection } from './connection.js';
import { pgPage } from './paging.js';
import type { Params } from './paging.js';
import type { IntegrationRecord, IntegrationStore } from '../contract/integrations.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { json } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { toIntegration } from '../shared/integration-rows.js';

export class PgIntegrationStore implements IntegrationStore {
  constructor(private readonly c: PgConnection) {}

  private readonly map = (r: Row): IntegrationRecord => toIntegration(r, this.c.box);

  async create(i: IntegrationRecord): Promise<void> {
    await this.c.sql`
      INSERT INTO integrations (id, app_id, name, feature_flags, key_hash, sealed_key, created_at, updated_at)
      VALUES (${i.id}, ${i.appId}, ${i.name}, ${json(i.featureFlags)}, ${i.keyHash}, ${this.c.box.seal(i.key)}, ${i.createdAt}, ${i.updatedAt})`;
  }

  async get(appId: string, id: string): Promise<IntegrationRecord | null> {
    const [r] = await this.c.sql`SELECT * FROM integrations WHERE app_id = ${appId} AND id = ${id}`;
    return r ? this.map(r) : null;
  }

  async list(appId: string, q: PageQuery): Promise<Page<IntegrationRecord>> {
    return pgPage(this.c.sql, { from: 'integrations', key: 'id', where: (p: Params) => [`app_id = ${p.add(appId)}`], defaultOrder: 'ascending', map: this.map }, q);
  }

  async update(i: IntegrationRecord): Promise<void> {
    await this.c.sql`UPDATE integrations SET name = ${i.name}, feature_flags = ${json(i.featureFlags)}, updated_at = ${i.updatedAt} WHERE app_id = ${i.appId} AND id = ${i.id}`;
  }

  async delete(appId: string, id: string): Promise<boolean> {
    return (await this.c.sql`DELETE FROM integrations WHERE app_id = ${appId} AND id = ${id}`).count > 0;
  }

  async replaceKey(appId: string, id: string, key: string, keyHash: string, nowMs: number): Promise<boolean> {
    const r = await this.c.sql`
      UPDATE integrations SET key_hash = ${keyHash}, sealed_key = ${this.c.box.seal(key)}, updated_at = ${nowMs} WHERE app_id = ${appId} AND id = ${id}`;
    return r.count > 0;
  }

  async byKeyHash(keyHash: string): Promise<IntegrationRecord | null> {
    const [r] = await this.c.sql`SELECT * FROM integrations WHERE key_hash = ${keyHash}`;
    return r ? this.map(r) : null;
  }
}

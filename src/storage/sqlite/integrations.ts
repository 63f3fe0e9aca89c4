/** The IntegrationStore on SQLite: the integrations table of migration 0033, keys sealed at rest. */
import type { SqliteConnection } from './connection.js';
import { sqlitePage } from './paging.js';
import type { IntegrationRecord, IntegrationStore } from '../contract/integrations.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { json } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { toIntegration } from '../shared/integration-rows.js';

export class SqliteIntegrationStore implements IntegrationStore {
  constructor(private readonly c: SqliteConnection) {}

  private readonly map = (r: Row): IntegrationRecord => toIntegration(r, this.c.box);

  async create(i: IntegrationRecord): Promise<void> {
    this.c
      .q('INSERT INTO integrations (id, app_id, name, feature_flags, key_hash, sealed_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(i.id, i.appId, i.name, json(i.featureFlags), i.keyHash, this.c.box.seal(i.key), i.createdAt, i.updatedAt);
  }

  async get(appId: string, id: string): Promise<IntegrationRecord | null> {
    const r = this.c.q('SELECT * FROM integrations WHERE app_id = ? AND id = ?').get(appId, id) as Row | undefined;
    return r ? this.map(r) : null;
  }

  async list(appId: string, q: PageQuery): Promise<Page<IntegrationRecord>> {
    return sqlitePage((sql) => this.c.q(sql), { from: 'integrations', key: 'id', where: 'app_id = ?', args: [appId], defaultOrder: 'ascending', map: this.map }, q);
  }

  async update(i: IntegrationRecord): Promise<void> {
    this.c.q('UPDATE integrations SET name = ?, feature_flags = ?, updated_at = ? WHERE app_id = ? AND id = ?').run(i.name, json(i.featureFlags), i.updatedAt, i.appId, i.id);
  }

  async delete(appId: string, id: string): Promise<boolean> {
    return this.c.q('DELETE FROM integrations WHERE app_id = ? AND id = ?').run(appId, id).changes > 0;
  }

  async replaceKey(appId: string, id: string, key: string, keyHash: string, nowMs: number): Promise<boolean> {
    return (
      this.c.q('UPDATE integrations SET key_hash = ?, sealed_key = ?, updated_at = ? WHERE app_id = ? AND id = ?').run(keyHash, this.c.box.seal(key), nowMs, appId, id).changes > 0
    );
  }

  async byKeyHash(keyHash: string): Promise<IntegrationRecord | null> {
    const r = this.c.q('SELECT * FROM integrations WHERE key_hash = ?').get(keyHash) as Row | undefined;
    return r ? this.map(r) : null;
  }
}

/** The ConnectorStore on PostgreSQL: the connectors table of migration 0033, and environment imports (with settings, 0036) in one transaction. */
import type { Sql, TransactionSql } from 'postgres';
import type { PgConnection } from './connection.js';
import { pgPage } from './paging.js';
import { insertEventType, updateEventTypeRow } from './catalog.js';
import { writeSettings } from './environment-settings.js';
import type { Params } from './paging.js';
import type { ConnectorProduct, ConnectorRecord, ConnectorStore, EnvironmentWrite } from '../contract/connectors.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { uniqueAsync } from '../shared/unique.js';
import { CONNECTOR_COLUMNS, connectorValues, toConnector } from '../shared/integration-rows.js';

const TAKEN_UID = 'a connector with this uid already exists';
const INSERT = `INSERT INTO connectors (${CONNECTOR_COLUMNS.join(', ')}) VALUES (${CONNECTOR_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
const UPDATE = `UPDATE connectors SET ${CONNECTOR_COLUMNS.slice(1).map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`;

export class PgConnectorStore implements ConnectorStore {
  constructor(private readonly c: PgConnection) {}

  private async insert(sql: Sql | TransactionSql, c: ConnectorRecord): Promise<void> {
    await uniqueAsync(TAKEN_UID, () => sql.unsafe(INSERT, connectorValues(c) as never[], { prepare: true }));
  }

  private async replace(sql: Sql | TransactionSql, c: ConnectorRecord): Promise<void> {
    await uniqueAsync(TAKEN_UID, () => sql.unsafe(UPDATE, connectorValues(c) as never[], { prepare: true }));
  }

  async create(c: ConnectorRecord): Promise<void> {
    await this.insert(this.c.sql, c);
  }

  async get(idOrUid: string): Promise<ConnectorRecord | null> {
    const [r] = await this.c.sql`SELECT * FROM connectors WHERE id = ${idOrUid} OR uid = ${idOrUid} ORDER BY (id = ${idOrUid}) DESC LIMIT 1`;
    return r ? toConnector(r) : null;
  }

  async list(q: PageQuery & { productType?: ConnectorProduct | undefined }): Promise<Page<ConnectorRecord>> {
    const where = (p: Params) => (q.productType !== undefined ? [`product_type = ${p.add(q.productType)}`] : []);
    return pgPage(this.c.sql, { from: 'connectors', key: 'id', where, defaultOrder: 'ascending', map: toConnector }, q);
  }

  async all(): Promise<ConnectorRecord[]> {
    return (await this.c.sql`SELECT * FROM connectors ORDER BY id`).map(toConnector);
  }

  async update(c: ConnectorRecord): Promise<void> {
    await this.replace(this.c.sql, c);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.c.sql`DELETE FROM connectors WHERE id = ${id}`).count > 0;
  }

  async applyEnvironment(w: EnvironmentWrite): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      for (const e of w.createEventTypes) await insertEventType(tx, e);
      for (const e of w.updateEventTypes) await updateEventTypeRow(tx, e);
      for (const c of w.createConnectors) await this.insert(tx, c);
      for (const c of w.updateConnectors) await this.replace(tx, c);
      if (w.settings) await writeSettings(tx, w.settings.values, w.settings.at);
    });
  }
}

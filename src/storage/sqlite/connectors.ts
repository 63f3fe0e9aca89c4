/** The ConnectorStore on SQLite: the connectors table of migration 0033, and environment imports (with settings, 0036) in one transaction. */
import type { SqliteConnection } from './connection.js';
import { sqlitePage } from './paging.js';
import { insertEventType, updateEventTypeRow } from './catalog.js';
import { writeSettings } from './environment-settings.js';
import type { ConnectorProduct, ConnectorRecord, ConnectorStore, EnvironmentWrite } from '../contract/connectors.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { unique } from '../shared/unique.js';
import type { Row } from '../shared/rows.js';
import { CONNECTOR_COLUMNS, connectorValues, toConnector } from '../shared/integration-rows.js';

const TAKEN_UID = 'a connector with this uid already exists';
const INSERT = `INSERT INTO connectors (${CONNECTOR_COLUMNS.join(', ')}) VALUES (${CONNECTOR_COLUMNS.map(() => '?').join(', ')})`;
const UPDATE = `UPDATE connectors SET ${CONNECTOR_COLUMNS.slice(1).map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;

export class SqliteConnectorStore implements ConnectorStore {
  constructor(private readonly c: SqliteConnection) {}

  private insert(c: ConnectorRecord): void {
    unique(TAKEN_UID, () => this.c.q(INSERT).run(...connectorValues(c)));
  }

  private replace(c: ConnectorRecord): void {
    const [id, ...rest] = connectorValues(c);
    unique(TAKEN_UID, () => this.c.q(UPDATE).run(...rest, id));
  }

  async create(c: ConnectorRecord): Promise<void> {
    this.insert(c);
  }

  async get(idOrUid: string): Promise<ConnectorRecord | null> {
    const r = this.c.q('SELECT * FROM connectors WHERE id = ? OR uid = ? ORDER BY id = ? DESC LIMIT 1').get(idOrUid, idOrUid, idOrUid) as Row | undefined;
    return r ? toConnector(r) : null;
  }

  async list(q: PageQuery & { productType?: ConnectorProduct | undefined }): Promise<Page<ConnectorRecord>> {
    const byProduct = q.productType !== undefined;
    return sqlitePage(
      (sql) => this.c.q(sql),
      { from: 'connectors', key: 'id', where: byProduct ? 'product_type = ?' : '', args: byProduct ? [q.productType] : [], defaultOrder: 'ascending', map: toConnector },
      q,
    );
  }

  async all(): Promise<ConnectorRecord[]> {
    return (this.c.q('SELECT * FROM connectors ORDER BY id').all() as Row[]).map(toConnector);
  }

  async update(c: ConnectorRecord): Promise<void> {
    this.replace(c);
  }

  async delete(id: string): Promise<boolean> {
    return this.c.q('DELETE FROM connectors WHERE id = ?').run(id).changes > 0;
  }

  async applyEnvironment(w: EnvironmentWrite): Promise<void> {
    this.c.db.transaction(() => {
      for (const e of w.createEventTypes) insertEventType(this.c, e);
      for (const e of w.updateEventTypes) updateEventTypeRow(this.c, e);
      for (const c of w.createConnectors) this.insert(c);
      for (const c of w.updateConnectors) this.replace(c);
      if (w.settings) writeSettings(this.c, w.settings.values, w.settings.at);
    }).immediate();
  }
}

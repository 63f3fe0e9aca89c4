/** Operational webhook endpoints on SQLite. */
import type { SqliteConnection } from './connection.js';
import type { SecretBox } from '../../security/crypto.js';
import type { OperationalEndpoint, OperationalWebhookStore } from '../contract/operational-webhooks.js';
import { unique } from '../shared/unique.js';
import { sqlitePage } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';

type Row = Record<string, unknown>;

function toEndpoint(r: Row, box: SecretBox): OperationalEndpoint {
  return {
    id: r.id as string,
    uid: (r.uid as string | null) ?? null,
    url: r.url as string,
    description: r.description as string,
    disabled: r.disabled === 1,
    eventTypes: r.event_types === null ? null : (JSON.parse(r.event_types as string) as string[]),
    throttleRate: (r.throttle_rate as number | null) ?? null,
    metadata: JSON.parse(r.metadata as string) as Record<string, string>,
    headers: JSON.parse(box.open(r.headers as string)) as Record<string, string>,
    secret: box.open(r.secret as string),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

const UID_TAKEN = 'an operational webhook endpoint with this uid already exists';

export class SqliteOperationalWebhookStore implements OperationalWebhookStore {
  /** Secret and headers are sealed with `box` at rest. */
  constructor(private readonly c: SqliteConnection) {}

  async create(e: OperationalEndpoint): Promise<void> {
    unique(UID_TAKEN, () =>
      this.c.q(
          `INSERT INTO operational_endpoints (id, uid, url, description, disabled, event_types, throttle_rate, metadata, headers, secret, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...this.values(e), e.createdAt, e.updatedAt),
    );
  }

  async get(idOrUid: string): Promise<OperationalEndpoint | null> {
    const r = (this.c.q('SELECT * FROM operational_endpoints WHERE id = ?').get(idOrUid) ??
      this.c.q('SELECT * FROM operational_endpoints WHERE uid = ?').get(idOrUid)) as Row | undefined;
    return r ? toEndpoint(r, this.c.box) : null;
  }

  async list(q: PageQuery): Promise<Page<OperationalEndpoint>> {
    const map = (r: Row) => toEndpoint(r, this.c.box);
    return sqlitePage((sql) => this.c.q(sql), { from: 'operational_endpoints', key: 'id', where: '', args: [], defaultOrder: 'ascending', map }, q);
  }

  async all(): Promise<OperationalEndpoint[]> {
    return (this.c.q('SELECT * FROM operational_endpoints ORDER BY id').all() as Row[]).map((r) => toEndpoint(r, this.c.box));
  }

  async update(e: OperationalEndpoint): Promise<void> {
    const [id, ...rest] = this.values(e);
    unique(UID_TAKEN, () =>
      this.c.q(
          `UPDATE operational_endpoints SET uid = ?, url = ?, description = ?, disabled = ?, event_types = ?, throttle_rate = ?, metadata = ?,
             headers = ?, secret = ?, updated_at = ? WHERE id = ?`,
        )
        .run(...rest, e.updatedAt, id),
    );
  }

  async delete(id: string): Promise<void> {
    this.c.q('DELETE FROM operational_endpoints WHERE id = ?').run(id);
  }

  /** Column values from id to secret, in table order. */
  private values(e: OperationalEndpoint): unknown[] {
    return [
      e.id,
      e.uid,
      e.url,
      e.description,
      e.disabled ? 1 : 0,
      e.eventTypes === null ? null : JSON.stringify(e.eventTypes),
      e.throttleRate,
      JSON.stringify(e.metadata),
      this.c.box.seal(JSON.stringify(e.headers)),
      this.c.box.seal(e.secret),
    ];
  }
}

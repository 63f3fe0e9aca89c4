/** Operational webhook endpoints on PostgreSQL. */
import type { Sql } from 'postgres';
import type { SecretBox } from '../../security/crypto.js';
import type { OperationalEndpoint, OperationalWebhookStore } from '../contract/operational-webhooks.js';
import { uniqueAsync } from '../shared/unique.js';
import { pgPage } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';
import type { Row } from './rows.js';

function toEndpoint(r: Row, box: SecretBox): OperationalEndpoint {
  return {
    id: r.id as string,
    uid: (r.uid as string | null) ?? null,
    url: r.url as string,
    description: r.description as string,
    disabled: r.disabled === true,
    eventTypes: r.event_types === null ? null : (JSON.parse(r.event_types as string) as string[]),
    throttleRate: (r.throttle_rate as number | null) ?? null,
    metadata: JSON.parse(r.metadata as string) as Record<string, string>,
    headers: JSON.parse(box.open(r.headers as string)) as Record<string, string>,
    secret: box.open(r.secret as string),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** Column values; secret and headers sealed at rest. */
function values(e: OperationalEndpoint, box: SecretBox): Row {
  return {
    id: e.id,
    uid: e.uid,
    url: e.url,
    description: e.description,
    disabled: e.disabled,
    event_types: e.eventTypes === null ? null : JSON.stringify(e.eventTypes),
    throttle_rate: e.throttleRate,
    metadata: JSON.stringify(e.metadata),
    headers: box.seal(JSON.stringify(e.headers)),
    secret: box.seal(e.secret),
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

const UID_TAKEN = 'an operational webhook endpoint with this uid already exists';

export class PgOperationalWebhookStore implements OperationalWebhookStore {
  constructor(
    private readonly sql: Sql,
    /** Secret and headers are sealed with `box` at rest. */
    private readonly box: SecretBox,
  ) {}

  async create(e: OperationalEndpoint): Promise<void> {
    await uniqueAsync(UID_TAKEN, () => this.sql`INSERT INTO operational_endpoints ${this.sql(values(e, this.box))}`);
  }

  async get(idOrUid: string): Promise<OperationalEndpoint | null> {
    const [r] = await this.sql`SELECT * FROM operational_endpoints WHERE id = ${idOrUid} UNION ALL SELECT * FROM operational_endpoints WHERE uid = ${idOrUid} LIMIT 1`;
    return r ? toEndpoint(r, this.box) : null;
  }

  async list(q: PageQuery): Promise<Page<OperationalEndpoint>> {
    return pgPage(this.sql, { from: 'operational_endpoints', key: 'id', where: () => [], defaultOrder: 'ascending', map: (r) => toEndpoint(r, this.box) }, q);
  }

  async all(): Promise<OperationalEndpoint[]> {
    return (await this.sql`SELECT * FROM operational_endpoints ORDER BY id`).map((r) => toEndpoint(r, this.box));
  }

  async update(e: OperationalEndpoint): Promise<void> {
    const v = values(e, this.box);
    await uniqueAsync(
      UID_TAKEN,
      () =>
        this.sql`UPDATE operational_endpoints SET ${this.sql(v, 'uid', 'url', 'description', 'disabled', 'event_types', 'throttle_rate', 'metadata', 'headers', 'secret', 'updated_at')}
                 WHERE id = ${e.id}`,
    );
  }

  async delete(id: string): Promise<void> {
    await this.sql`DELETE FROM operational_endpoints WHERE id = ${id}`;
  }
}

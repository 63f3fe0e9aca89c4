/**
 * The catalog on PostgreSQL: applications, event types and endpoints. Every endpoint gets
 * its `endpoint_limits` row (cross-node caps and token bucket) when created; changes to
 * endpoints are announced to the other nodes, which cache them.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { Application, Endpoint, EventType } from '../../domain/model.js';
import type { CatalogStore } from '../contract/catalog.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { FULL_BUCKET } from '../../domain/token-bucket.js';
import { uniqueAsync } from '../shared/unique.js';
import type { PgConnection } from './connection.js';
import { pgPage } from './paging.js';
import { failWaiting } from './queue.js';
import { endpointValues, json, toApp, toEndpoint, toEventType } from './rows.js';

/** The catalog on PostgreSQL. */
export class PgCatalogStore implements CatalogStore {
  constructor(private readonly c: PgConnection) {}

  // ---- applications

  async createApplication(a: Application): Promise<void> {
    await uniqueAsync('an application with this uid already exists', () => this.c.sql`
      INSERT INTO applications (id, uid, name, throttle_rate, metadata, header_style, created_at, updated_at)
      VALUES (${a.id}, ${a.uid}, ${a.name}, ${a.throttleRate}, ${JSON.stringify(a.metadata)}, ${a.headerStyle}, ${a.createdAt}, ${a.updatedAt})`);
  }

  async getApplication(idOrUid: string): Promise<Application | null> {
    const [r] = await this.c.sql`SELECT * FROM applications WHERE id = ${idOrUid} UNION ALL SELECT * FROM applications WHERE uid = ${idOrUid} LIMIT 1`;
    return r ? toApp(r) : null;
  }

  async listApplications(q: PageQuery): Promise<Page<Application>> {
    return pgPage(this.c.sql, { from: 'applications', key: 'id', where: () => [], defaultOrder: 'ascending', map: toApp }, q);
  }

  async updateApplication(a: Application): Promise<void> {
    await uniqueAsync('an application with this uid already exists', () => this.c.sql`
      UPDATE applications SET uid = ${a.uid}, name = ${a.name}, throttle_rate = ${a.throttleRate}, metadata = ${JSON.stringify(a.metadata)},
        header_style = ${a.headerStyle}, updated_at = ${a.updatedAt} WHERE id = ${a.id}`);
  }

  async deleteApplication(id: string): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      for (const t of ['endpoint_limits', 'attempts', 'deliveries', 'message_event_ids', 'messages', 'endpoints', 'integrations']) await tx`DELETE FROM ${tx(t)} WHERE app_id = ${id}`;
      await tx`DELETE FROM applications WHERE id = ${id}`;
      await this.c.notify(tx, [{ kind: 'endpoints-changed', appId: id }]);
    });
  }

  // ---- event types

  async createEventType(e: EventType): Promise<void> {
    await insertEventType(this.c.sql, e);
  }

  async getEventType(name: string): Promise<EventType | null> {
    const [r] = await this.c.sql`SELECT * FROM event_types WHERE name = ${name}`;
    return r ? toEventType(r) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
    return pgPage(this.c.sql, { from: 'event_types', key: 'name', where: () => (q.includeArchived ? [] : ['NOT archived']), defaultOrder: 'ascending', map: toEventType }, q);
  }

  async updateEventType(e: EventType): Promise<void> {
    await updateEventTypeRow(this.c.sql, e);
  }

  async deleteEventType(name: string): Promise<void> {
    await this.c.sql`DELETE FROM event_types WHERE name = ${name}`;
  }

  // ---- endpoints

  async createEndpoint(e: Endpoint): Promise<void> {
    await uniqueAsync('an endpoint with this uid already exists', () =>
      this.c.sql.begin(async (tx) => {
        await tx`INSERT INTO endpoints ${tx(endpointValues(e, this.c.box))}`;
        await tx`INSERT INTO endpoint_limits (app_id, endpoint_id, tokens, updated_at) VALUES (${e.appId}, ${e.id}, ${FULL_BUCKET}, ${e.createdAt}) ON CONFLICT DO NOTHING`;
        await this.c.notify(tx, [{ kind: 'endpoints-changed', appId: e.appId }]);
      }),
    );
  }

  async getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null> {
    const [r] = await this.c.sql`SELECT * FROM endpoints WHERE id = ${idOrUid} AND app_id = ${appId}
      UNION ALL SELECT * FROM endpoints WHERE app_id = ${appId} AND uid = ${idOrUid} LIMIT 1`;
    return r ? toEndpoint(r, this.c.box) : null;
  }

  async listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>> {
    return pgPage(this.c.sql, { from: 'endpoints', key: 'id', where: (p) => [`app_id = ${p.add(appId)}`], defaultOrder: 'ascending', map: (r) => toEndpoint(r, this.c.box) }, q);
  }

  async allEndpoints(appId: string): Promise<Endpoint[]> {
    return (await this.c.sql`SELECT * FROM endpoints WHERE app_id = ${appId} ORDER BY id`).map((r) => toEndpoint(r, this.c.box));
  }

  async updateEndpoint(e: Endpoint): Promise<void> {
    const v = endpointValues(e, this.c.box);
    await uniqueAsync('an endpoint with this uid already exists', () =>
      this.c.sql.begin(async (tx) => {
        await tx`UPDATE endpoints SET ${tx(v, 'uid', 'url', 'description', 'disabled', 'event_types', 'channels', 'throttle_rate', 'metadata', 'headers', 'secrets', 'failing_since', 'updated_at', 'filter', 'transformation')}
                 WHERE id = ${e.id} AND app_id = ${e.appId}`;
        if (e.disabled) await failWaiting(tx, e.appId, e.id, e.updatedAt);
        await this.c.notify(tx, [{ kind: 'endpoints-changed', appId: e.appId }]);
      }),
    );
  }

  async deleteEndpoint(appId: string, id: string): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      await tx`DELETE FROM attempts WHERE app_id = ${appId} AND endpoint_id = ${id}`;
      await tx`DELETE FROM deliveries WHERE app_id = ${appId} AND endpoint_id = ${id}`;
      const gone = await tx`DELETE FROM endpoints WHERE id = ${id} AND app_id = ${appId}`;
      if (gone.count > 0) await tx`DELETE FROM endpoint_limits WHERE app_id = ${appId} AND endpoint_id = ${id}`;
      await this.c.notify(tx, [{ kind: 'endpoints-changed', appId }]);
    });
  }
}

/** Inserts an event type (a 409 when the name is taken), on the pool or inside a transaction. */
export async function insertEventType(sql: Sql | TransactionSql, e: EventType): Promise<void> {
  await uniqueAsync('an event type with this name already exists', () => sql`
    INSERT INTO event_types (name, description, archived, deprecated, feature_flag, schemas, created_at, updated_at)
    VALUES (${e.name}, ${e.description}, ${e.archived}, ${e.deprecated}, ${e.featureFlag}, ${json(e.schemas)}, ${e.createdAt}, ${e.updatedAt})`);
}

/** Writes an event type's fields, on the pool or inside a transaction. */
export async function updateEventTypeRow(sql: Sql | TransactionSql, e: EventType): Promise<void> {
  await sql`UPDATE event_types SET description = ${e.description}, archived = ${e.archived}, deprecated = ${e.deprecated},
    feature_flag = ${e.featureFlag}, schemas = ${json(e.schemas)}, updated_at = ${e.updatedAt} WHERE name = ${e.name}`;
}

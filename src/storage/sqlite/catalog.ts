/** The catalog on SQLite: applications, event types and endpoints. */
import type { Application, Endpoint, EventType } from '../../domain/model.js';
import type { CatalogStore } from '../contract/catalog.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { json, toApp, toEndpoint, toEventType } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { unique } from '../shared/unique.js';
import type { SqliteConnection } from './connection.js';
import { sqlitePage } from './paging.js';
import type { SqliteListing } from './paging.js';
import { failWaiting } from './queue.js';

/** The catalog on SQLite. */
export class SqliteCatalogStore implements CatalogStore {
  constructor(private readonly c: SqliteConnection) {}

  // ---- applications

  async createApplication(a: Application): Promise<void> {
    unique('an application with this uid already exists', () => this.c.q(
      `INSERT INTO applications (id, uid, name, throttle_rate, metadata, header_style, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(a.id, a.uid, a.name, a.throttleRate, JSON.stringify(a.metadata), a.headerStyle, a.createdAt, a.updatedAt));
  }

  async getApplication(idOrUid: string): Promise<Application | null> {
    const r = (this.c.q('SELECT * FROM applications WHERE id = ?').get(idOrUid) ?? this.c.q('SELECT * FROM applications WHERE uid = ?').get(idOrUid)) as Row | undefined;
    return r ? toApp(r) : null;
  }

  async listApplications(q: PageQuery): Promise<Page<Application>> {
    return this.page({ from: 'applications', key: 'id', where: '', args: [], defaultOrder: 'ascending', map: toApp }, q);
  }

  async updateApplication(a: Application): Promise<void> {
    unique('an application with this uid already exists', () => this.c.q('UPDATE applications SET uid = ?, name = ?, throttle_rate = ?, metadata = ?, header_style = ?, updated_at = ? WHERE id = ?').run(
      a.uid,
      a.name,
      a.throttleRate,
      JSON.stringify(a.metadata),
      a.headerStyle,
      a.updatedAt,
      a.id,
    ));
  }

  async deleteApplication(id: string): Promise<void> {
    this.c.db.transaction(() => {
      for (const t of ['attempts', 'deliveries', 'messages', 'endpoints', 'integrations']) this.c.q(`DELETE FROM ${t} WHERE app_id = ?`).run(id);
      this.c.q('DELETE FROM applications WHERE id = ?').run(id);
    })();
  }

  // ---- event types

  async createEventType(e: EventType): Promise<void> {
    insertEventType(this.c, e);
  }

  async getEventType(name: string): Promise<EventType | null> {
    const r = this.c.q('SELECT * FROM event_types WHERE name = ?').get(name) as Row | undefined;
    return r ? toEventType(r) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
    return this.page({ from: 'event_types', key: 'name', where: q.includeArchived ? '' : 'archived = 0', args: [], defaultOrder: 'ascending', map: toEventType }, q);
  }

  async updateEventType(e: EventType): Promise<void> {
    updateEventTypeRow(this.c, e);
  }

  async deleteEventType(name: string): Promise<void> {
    this.c.q('DELETE FROM event_types WHERE name = ?').run(name);
  }

  // ---- endpoints

  async createEndpoint(e: Endpoint): Promise<void> {
    const box = this.c.box;
    unique('an endpoint with this uid already exists', () => this.c.q(
      `INSERT INTO endpoints (id, app_id, uid, url, description, disabled, event_types, channels, throttle_rate, metadata, headers, secrets, failing_since, created_at, updated_at, filter, transformation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.id,
      e.appId,
      e.uid,
      e.url,
      e.description,
      e.disabled ? 1 : 0,
      json(e.eventTypes),
      json(e.channels),
      e.throttleRate,
      JSON.stringify(e.metadata),
      box.seal(JSON.stringify(e.headers)),
      box.seal(JSON.stringify(e.secrets)),
      e.failingSince,
      e.createdAt,
      e.updatedAt,
      json(e.filter),
      e.transformation ? box.seal(JSON.stringify(e.transformation)) : null,
    ));
  }

  async getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null> {
    const r = (this.c.q('SELECT * FROM endpoints WHERE id = ? AND app_id = ?').get(idOrUid, appId) ??
      this.c.q('SELECT * FROM endpoints WHERE app_id = ? AND uid = ?').get(appId, idOrUid)) as Row | undefined;
    return r ? toEndpoint(r, this.c.box) : null;
  }

  async listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>> {
    return this.page({ from: 'endpoints', key: 'id', where: 'app_id = ?', args: [appId], defaultOrder: 'ascending', map: (r) => toEndpoint(r, this.c.box) }, q);
  }

  async allEndpoints(appId: string): Promise<Endpoint[]> {
    return (this.c.q('SELECT * FROM endpoints WHERE app_id = ? ORDER BY id').all(appId) as Row[]).map((r) => toEndpoint(r, this.c.box));
  }

  async updateEndpoint(e: Endpoint): Promise<void> {
    const box = this.c.box;
    unique('an endpoint with this uid already exists', () => this.c.db.transaction(() => {
      this.c.q(
        `UPDATE endpoints SET uid = ?, url = ?, description = ?, disabled = ?, event_types = ?, channels = ?, throttle_rate = ?,
           metadata = ?, headers = ?, secrets = ?, failing_since = ?, updated_at = ?, filter = ?, transformation = ? WHERE id = ? AND app_id = ?`,
      ).run(
        e.uid,
        e.url,
        e.description,
        e.disabled ? 1 : 0,
        json(e.eventTypes),
        json(e.channels),
        e.throttleRate,
        JSON.stringify(e.metadata),
        box.seal(JSON.stringify(e.headers)),
        box.seal(JSON.stringify(e.secrets)),
        e.failingSince,
        e.updatedAt,
        json(e.filter),
        e.transformation ? box.seal(JSON.stringify(e.transformation)) : null,
        e.id,
        e.appId,
      );
      if (e.disabled) failWaiting(this.c, e.id, e.updatedAt);
    })());
  }

  async deleteEndpoint(appId: string, id: string): Promise<void> {
    this.c.db.transaction(() => {
      this.c.q('DELETE FROM attempts WHERE endpoint_id = ? AND app_id = ?').run(id, appId);
      this.c.q('DELETE FROM deliveries WHERE endpoint_id = ? AND app_id = ?').run(id, appId);
      this.c.q('DELETE FROM endpoints WHERE id = ? AND app_id = ?').run(id, appId);
    })();
  }

  /** One page of a listing, its statements cached (one per combination of filters). */
  private page<T>(listing: SqliteListing<T>, q: PageQuery): Page<T> {
    return sqlitePage((sql) => this.c.q(sql), listing, q);
  }
}

/** Inserts an event type (a 409 when the name is taken); synchronous, so it also runs inside a transaction. */
export function insertEventType(c: SqliteConnection, e: EventType): void {
  unique('an event type with this name already exists', () =>
    c
      .q(`INSERT INTO event_types (name, description, archived, deprecated, feature_flag, schemas, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(e.name, e.description, e.archived ? 1 : 0, e.deprecated ? 1 : 0, e.featureFlag, json(e.schemas), e.createdAt, e.updatedAt),
  );
}

/** Writes an event type's fields; synchronous, so it also runs inside a transaction. */
export function updateEventTypeRow(c: SqliteConnection, e: EventType): void {
  c.q('UPDATE event_types SET description = ?, archived = ?, deprecated = ?, feature_flag = ?, schemas = ?, updated_at = ? WHERE name = ?').run(
    e.description,
    e.archived ? 1 : 0,
    e.deprecated ? 1 : 0,
    e.featureFlag,
    json(e.schemas),
    e.updatedAt,
    e.name,
  );
}

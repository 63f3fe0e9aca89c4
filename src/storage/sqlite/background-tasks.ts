/** Background tasks on SQLite. */
import type { SqliteConnection } from './connection.js';
import type { BackgroundTask, BackgroundTaskQuery, BackgroundTaskStore, TaskProgress } from '../contract/background-tasks.js';
import type { Page } from '../contract/paging.js';
import { json, toBackgroundTask } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { sqlitePage } from './paging.js';

export class SqliteBackgroundTaskStore implements BackgroundTaskStore {
  constructor(private readonly c: SqliteConnection) {}

  async create(t: BackgroundTask): Promise<void> {
    this.c.q(
        `INSERT INTO background_tasks (id, task, status, app_id, params, data, checkpoint, owner, lease_until, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(t.id, t.task, t.status, t.appId, JSON.stringify(t.params), JSON.stringify(t.data), json(t.checkpoint), t.owner, t.leaseUntil, t.createdAt, t.updatedAt);
  }

  async get(id: string): Promise<BackgroundTask | null> {
    const r = this.c.q('SELECT * FROM background_tasks WHERE id = ?').get(id) as Row | undefined;
    return r ? toBackgroundTask(r) : null;
  }

  async list(q: BackgroundTaskQuery): Promise<Page<BackgroundTask>> {
    const conds: string[] = [];
    const args: unknown[] = [];
    if (q.status !== undefined) {
      conds.push('status = ?');
      args.push(q.status);
    }
    if (q.task !== undefined) {
      conds.push('task = ?');
      args.push(q.task);
    }
    return sqlitePage((sql) => this.c.q(sql), { from: 'background_tasks', key: 'id', where: conds.join(' AND '), args, defaultOrder: 'descending', map: toBackgroundTask }, q);
  }

  async renew(id: string, owner: string, leaseUntil: number, nowMs: number, progress?: TaskProgress): Promise<boolean> {
    const r = progress
      ? this.c.q("UPDATE background_tasks SET lease_until = ?, data = ?, checkpoint = ?, updated_at = ? WHERE id = ? AND status = 'running' AND owner = ?")
          .run(leaseUntil, JSON.stringify(progress.data), json(progress.checkpoint), nowMs, id, owner)
      : this.c.q("UPDATE background_tasks SET lease_until = ? WHERE id = ? AND status = 'running' AND owner = ?").run(leaseUntil, id, owner);
    return r.changes > 0;
  }

  async finish(id: string, owner: string, status: 'finished' | 'failed', data: Record<string, unknown>, nowMs: number): Promise<boolean> {
    const r = this.c.q("UPDATE background_tasks SET status = ?, data = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'running' AND owner = ?")
      .run(status, JSON.stringify(data), nowMs, id, owner);
    return r.changes > 0;
  }

  async claim(owner: string, leaseUntil: number, nowMs: number, o: { all?: boolean } = {}): Promise<BackgroundTask[]> {
    // One statement: SQLite has one writer, so a task is taken once.
    const rows = this.c.q(
        `UPDATE background_tasks SET owner = ?, lease_until = ?
         WHERE status = 'running' AND (? OR lease_until IS NULL OR lease_until < ?) RETURNING *`,
      )
      .all(owner, leaseUntil, o.all ? 1 : 0, nowMs) as Row[];
    return rows.map(toBackgroundTask).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** Background tasks on SQLite. */
import type { Database } from 'better-sqlite3';
import type { BackgroundTask, BackgroundTaskQuery, BackgroundTaskStore } from '../contract/background-tasks.js';
import type { Page } from '../contract/paging.js';
import { toBackgroundTask } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { sqlitePage } from './paging.js';

export class SqliteBackgroundTaskStore implements BackgroundTaskStore {
  constructor(private readonly db: Database) {}

  async create(t: BackgroundTask): Promise<void> {
    this.db
      .prepare('INSERT INTO background_tasks (id, task, status, app_id, params, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, t.task, t.status, t.appId, JSON.stringify(t.params), JSON.stringify(t.data), t.createdAt, t.updatedAt);
  }

  async get(id: string): Promise<BackgroundTask | null> {
    const r = this.db.prepare('SELECT * FROM background_tasks WHERE id = ?').get(id) as Row | undefined;
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
    return sqlitePage((sql) => this.db.prepare(sql), { from: 'background_tasks', key: 'id', where: conds.join(' AND '), args, defaultOrder: 'descending', map: toBackgroundTask }, q);
  }

  async finish(id: string, status: 'finished' | 'failed', data: Record<string, unknown>, nowMs: number): Promise<boolean> {
    const r = this.db
      .prepare("UPDATE background_tasks SET status = ?, data = ?, updated_at = ? WHERE id = ? AND status = 'running'")
      .run(status, JSON.stringify(data), nowMs, id);
    return r.changes > 0;
  }

  async running(): Promise<BackgroundTask[]> {
    return (this.db.prepare("SELECT * FROM background_tasks WHERE status = 'running' ORDER BY id").all() as Row[]).map(toBackgroundTask);
  }
}

/** Background tasks on PostgreSQL. */
import type { Sql } from 'postgres';
import type { BackgroundTask, BackgroundTaskQuery, BackgroundTaskStore } from '../contract/background-tasks.js';
import type { Page } from '../contract/paging.js';
import { toBackgroundTask } from '../shared/rows.js';
import { pgPage } from './paging.js';

export class PgBackgroundTaskStore implements BackgroundTaskStore {
  constructor(private readonly sql: Sql) {}

  async create(t: BackgroundTask): Promise<void> {
    await this.sql`INSERT INTO background_tasks ${this.sql({
      id: t.id,
      task: t.task,
      status: t.status,
      app_id: t.appId,
      params: JSON.stringify(t.params),
      data: JSON.stringify(t.data),
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    })}`;
  }

  async get(id: string): Promise<BackgroundTask | null> {
    const [r] = await this.sql`SELECT * FROM background_tasks WHERE id = ${id}`;
    return r ? toBackgroundTask(r) : null;
  }

  async list(q: BackgroundTaskQuery): Promise<Page<BackgroundTask>> {
    return pgPage(
      this.sql,
      {
        from: 'background_tasks',
        key: 'id',
        where: (p) => [
          ...(q.status !== undefined ? [`t.status = ${p.add(q.status)}`] : []),
          ...(q.task !== undefined ? [`t.task = ${p.add(q.task)}`] : []),
        ],
        defaultOrder: 'descending',
        map: toBackgroundTask,
      },
      q,
    );
  }

  async finish(id: string, status: 'finished' | 'failed', data: Record<string, unknown>, nowMs: number): Promise<boolean> {
    const r = await this.sql`UPDATE background_tasks SET status = ${status}, data = ${JSON.stringify(data)}, updated_at = ${nowMs}
      WHERE id = ${id} AND status = 'running'`;
    return r.count > 0;
  }

  async running(): Promise<BackgroundTask[]> {
    return (await this.sql`SELECT * FROM background_tasks WHERE status = 'running' ORDER BY id`).map(toBackgroundTask);
  }
}

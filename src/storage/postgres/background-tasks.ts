/** Background tasks on PostgreSQL. */
import type { Sql } from 'postgres';
import type { BackgroundTask, BackgroundTaskQuery, BackgroundTaskStore, TaskProgress } from '../contract/background-tasks.js';
import type { Page } from '../contract/paging.js';
import { json, toBackgroundTask } from '../shared/rows.js';
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
      checkpoint: json(t.checkpoint),
      owner: t.owner,
      lease_until: t.leaseUntil,
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

  async renew(id: string, owner: string, leaseUntil: number, nowMs: number, progress?: TaskProgress): Promise<boolean> {
    const r = progress
      ? await this.sql`UPDATE background_tasks SET lease_until = ${leaseUntil}, data = ${JSON.stringify(progress.data)},
          checkpoint = ${json(progress.checkpoint)}, updated_at = ${nowMs}
          WHERE id = ${id} AND status = 'running' AND owner = ${owner}`
      : await this.sql`UPDATE background_tasks SET lease_until = ${leaseUntil} WHERE id = ${id} AND status = 'running' AND owner = ${owner}`;
    return r.count > 0;
  }

  async finish(id: string, owner: string, status: 'finished' | 'failed', data: Record<string, unknown>, nowMs: number): Promise<boolean> {
    const r = await this.sql`UPDATE background_tasks SET status = ${status}, data = ${JSON.stringify(data)}, lease_until = NULL, updated_at = ${nowMs}
      WHERE id = ${id} AND status = 'running' AND owner = ${owner}`;
    return r.count > 0;
  }

  async claim(owner: string, leaseUntil: number, nowMs: number, o: { all?: boolean } = {}): Promise<BackgroundTask[]> {
    // Two nodes claiming at once: the second waits for the first's row lock, then sees the
    // lease it wrote (in the future) and skips the row, so a task is taken by one node only.
    const rows = await this.sql`UPDATE background_tasks SET owner = ${owner}, lease_until = ${leaseUntil}
      WHERE status = 'running' AND (${o.all === true} OR lease_until IS NULL OR lease_until < ${nowMs}) RETURNING *`;
    return rows.map(toBackgroundTask).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

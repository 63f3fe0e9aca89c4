/** Usage figures on SQLite. */
import type { Database } from 'better-sqlite3';
import type { UsageStore } from '../contract/usage.js';

export class SqliteUsageStore implements UsageStore {
  constructor(private readonly db: Database) {}

  async countActiveApplications(enabledOnly: boolean): Promise<number> {
    const r = this.db.prepare(`SELECT COUNT(DISTINCT app_id) AS n FROM endpoints ${enabledOnly ? 'WHERE disabled = 0' : ''}`).get() as { n: number };
    return r.n;
  }

  async countEndpoints(): Promise<{ active: number; disabled: number }> {
    const r = this.db.prepare('SELECT COALESCE(SUM(disabled = 0), 0) AS active, COALESCE(SUM(disabled <> 0), 0) AS disabled FROM endpoints').get() as { active: number; disabled: number };
    return { active: r.active, disabled: r.disabled };
  }

  async messagesPerApplication(appIds: string[] | null, since: number, until: number): Promise<{ appId: string; messages: number }[]> {
    if (appIds !== null && appIds.length === 0) return [];
    const byApp = appIds === null ? '' : `AND app_id IN (${appIds.map(() => '?').join(', ')})`;
    const rows = this.db
      .prepare(`SELECT app_id, COUNT(*) AS n FROM messages WHERE created_at >= ? AND created_at < ? ${byApp} GROUP BY app_id ORDER BY app_id`)
      .all(since, until, ...(appIds ?? [])) as { app_id: string; n: number }[];
    return rows.map((r) => ({ appId: r.app_id, messages: r.n }));
  }

  async eventTypesSeen(): Promise<string[]> {
    return (this.db.prepare('SELECT DISTINCT event_type FROM messages ORDER BY event_type').all() as { event_type: string }[]).map((r) => r.event_type);
  }
}

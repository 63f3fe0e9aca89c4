/** Usage figures on PostgreSQL. */
import type { Sql } from 'postgres';
import type { UsageStore } from '../contract/usage.js';

export class PgUsageStore implements UsageStore {
  constructor(private readonly sql: Sql) {}

  async countActiveApplications(enabledOnly: boolean): Promise<number> {
    const [r] = enabledOnly
      ? await this.sql`SELECT COUNT(DISTINCT app_id)::int AS n FROM endpoints WHERE NOT disabled`
      : await this.sql`SELECT COUNT(DISTINCT app_id)::int AS n FROM endpoints`;
    return Number(r!.n);
  }

  async countEndpoints(): Promise<{ active: number; disabled: number }> {
    const [r] = await this.sql`SELECT COUNT(*) FILTER (WHERE NOT disabled)::int AS active, COUNT(*) FILTER (WHERE disabled)::int AS disabled FROM endpoints`;
    return { active: Number(r!.active), disabled: Number(r!.disabled) };
  }

  async messagesPerApplication(appIds: string[] | null, since: number, until: number): Promise<{ appId: string; messages: number }[]> {
    if (appIds !== null && appIds.length === 0) return [];
    const rows =
      appIds === null
        ? await this.sql`SELECT app_id, COUNT(*)::int AS n FROM messages WHERE created_at >= ${since} AND created_at < ${until} GROUP BY app_id ORDER BY app_id`
        : await this.sql`SELECT app_id, COUNT(*)::int AS n FROM messages WHERE created_at >= ${since} AND created_at < ${until} AND app_id = ANY(${appIds}) GROUP BY app_id ORDER BY app_id`;
    return rows.map((r) => ({ appId: r.app_id as string, messages: Number(r.n) }));
  }

  async eventTypesSeen(): Promise<string[]> {
    return (await this.sql`SELECT DISTINCT event_type FROM messages ORDER BY event_type`).map((r) => r.event_type as string);
  }
}

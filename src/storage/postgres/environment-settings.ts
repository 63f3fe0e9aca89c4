/** The EnvironmentSettingsStore on PostgreSQL: the environment_settings table of migration 0036. */
import type { Sql, TransactionSql } from 'postgres';
import type { PgConnection } from './connection.js';
import type { EnvironmentSettingsStore } from '../contract/environment-settings.js';

/** Saves settings (inside the caller's transaction). */
export async function writeSettings(sql: Sql | TransactionSql, settings: Record<string, unknown>, at: number): Promise<void> {
  for (const [name, value] of Object.entries(settings)) {
    await sql`INSERT INTO environment_settings (name, value, updated_at) VALUES (${name}, ${JSON.stringify(value)}, ${at})
      ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
  }
}

export class PgEnvironmentSettingsStore implements EnvironmentSettingsStore {
  constructor(private readonly c: PgConnection) {}

  async all(): Promise<Record<string, unknown>> {
    const rows = await this.c.sql<{ name: string; value: string }[]>`SELECT name, value FROM environment_settings`;
    return Object.fromEntries(rows.map((r) => [r.name, JSON.parse(r.value) as unknown]));
  }
}

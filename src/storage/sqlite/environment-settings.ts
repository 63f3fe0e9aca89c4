/** The EnvironmentSettingsStore on SQLite: the environment_settings table of migration 0036. */
import type { SqliteConnection } from './connection.js';
import type { EnvironmentSettingsStore } from '../contract/environment-settings.js';

const UPSERT = 'INSERT INTO environment_settings (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at';

/** Saves settings (inside the caller's transaction). */
export function writeSettings(c: SqliteConnection, settings: Record<string, unknown>, at: number): void {
  for (const [name, value] of Object.entries(settings)) c.q(UPSERT).run(name, JSON.stringify(value), at);
}

export class SqliteEnvironmentSettingsStore implements EnvironmentSettingsStore {
  constructor(private readonly c: SqliteConnection) {}

  async all(): Promise<Record<string, unknown>> {
    const rows = this.c.q('SELECT name, value FROM environment_settings').all() as { name: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.name, JSON.parse(r.value) as unknown]));
  }
}

/** `switchboard migrate`: applies pending database migrations, then exits. */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { PostgresStore } from '../storage/postgres/postgres-store.js';
import { runMigrations } from '../storage/postgres/migrator.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';

/** Migrates the configured database (PostgreSQL under its advisory lock, or the SQLite file). */
export async function migrate(): Promise<void> {
  const config = loadConfig();
  if (config.databaseUrl) {
    const store = new PostgresStore({ url: config.databaseUrl, max: 1 });
    try {
      const applied = await runMigrations(store.sql);
      for (const name of applied) process.stdout.write(`applied ${name}\n`);
      process.stdout.write(applied.length > 0 ? 'PostgreSQL schema is up to date\n' : 'PostgreSQL schema was already up to date\n');
    } finally {
      await store.close();
    }
    return;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const store = new SqliteStore({ path: join(config.dataDir, 'switchboard.db'), durability: config.durability });
  try {
    await store.migrate();
    process.stdout.write(`SQLite database ${join(config.dataDir, 'switchboard.db')} is up to date\n`);
  } finally {
    await store.close();
  }
}

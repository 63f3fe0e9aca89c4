/**
 * Opens the configured store: PostgreSQL when `SWITCHBOARD_DATABASE_URL` is set, otherwise the
 * SQLite file in the data directory. The one place outside the storage layer that names an
 * implementation; the server and the commands that work on the database directly use it.
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { SecretBox } from '../security/crypto.js';
import { makePrivateDir } from '../security/private-files.js';
import type { Store } from '../storage/contract/store.js';
import { PostgresStore } from '../storage/postgres/postgres-store.js';
import { runMigrations } from '../storage/postgres/migrator.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** Seals secrets at rest; without it secrets are stored as given. */
  box?: SecretBox;
  /** Connections in the PostgreSQL pool (default: the configured pool size). */
  poolSize?: number;
}

/** The SQLite file of a data directory. */
export function sqlitePath(config: Config): string {
  return join(config.dataDir, 'switchboard.db');
}

/** Opens (without migrating) the configured store. */
export function openStore(config: Config, o: OpenStoreOptions = {}): Store {
  if (config.databaseUrl) {
    return new PostgresStore({
      url: config.databaseUrl,
      max: o.poolSize ?? config.databasePoolSize,
      box: o.box,
      endpointConcurrency: config.endpointConcurrency,
      idleInTransactionTimeoutMs: config.databaseIdleInTransactionMs,
      tcpUserTimeoutMs: config.databaseTcpUserTimeoutMs,
      lockTimeoutMs: config.databaseLockTimeoutMs,
    });
  }
  makePrivateDir(config.dataDir);
  return new SqliteStore({ path: sqlitePath(config), durability: config.durability, box: o.box });
}

/** What `migrateStore` did: where, what was applied (PostgreSQL), and the database server's advisories. */
export interface MigrateResult {
  database: 'postgres' | 'sqlite';
  where: string;
  /** The migrations applied now; null on SQLite, which does not list them. */
  applied: string[] | null;
  /** Settings of the database server that will slow Switchboard down (`Store.advisories`). */
  advisories: string[];
}

/**
 * Applies pending migrations to the configured database; answers where and what was applied.
 * `onWait` is told each time a migration waits for a table lock (PostgreSQL).
 */
export async function migrateStore(config: Config, onWait?: (waiting: string) => void): Promise<MigrateResult> {
  if (config.databaseUrl) {
    // Opened as the server opens it (its sessions' settings), with one connection.
    const store = openStore(config, { poolSize: 1 }) as PostgresStore;
    try {
      const applied = await runMigrations(store.sql, undefined, { onWait });
      return { database: 'postgres', where: 'PostgreSQL schema', applied, advisories: await store.advisories() };
    } finally {
      await store.close();
    }
  }
  const store = openStore(config);
  try {
    await store.migrate();
    return { database: 'sqlite', where: `SQLite database ${sqlitePath(config)}`, applied: null, advisories: await store.advisories() };
  } finally {
    await store.close();
  }
}

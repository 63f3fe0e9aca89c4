/**
 * Stores for the storage contract suites: a SQLite file in a temporary directory, or a
 * fresh PostgreSQL schema, each removed by `dispose`. `onBothDatabases` runs a suite on both.
 */
import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretBox } from '../../src/security/crypto.js';
import type { Store } from '../../src/storage/contract/store.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { TEST_DATABASE_URL, migratedTestSchema } from './pg.js';
import { skipWithoutPostgres } from './requirements.js';

/** A store under test and how to remove it. */
export interface TestStore<S extends Store = Store> {
  store: S;
  dispose: () => Promise<void>;
}

/** Makes a store under test, sealing secrets with `box` if given (a PostgreSQL one may be migrated already: migrating is a no-op then). */
export type StoreFactory<S extends Store = Store> = (box?: SecretBox) => Promise<TestStore<S>>;

/** A SQLite store on a file of its own. */
export const sqliteStore: StoreFactory<SqliteStore> = async (box) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-store-'));
  const store = new SqliteStore({ path: join(dir, 'test.db'), durability: 'normal', ...(box ? { box } : {}) });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** A PostgreSQL store on a schema of its own (already migrated: migrating again is a no-op), given back by `dispose`. */
export const postgresStore: StoreFactory<PostgresStore> = async (box) => {
  const s = await migratedTestSchema();
  const store = new PostgresStore({ url: TEST_DATABASE_URL, schema: s.schema, max: 3, box });
  return {
    store,
    dispose: async () => {
      await store.close();
      await s.drop();
    },
  };
};

/** Runs a contract suite on SQLite and on PostgreSQL (skipped, with the reason, when PostgreSQL is missing outside CI). */
export function onBothDatabases(suite: (name: string, make: StoreFactory) => void): void {
  suite('sqlite', sqliteStore);
  describe('on PostgreSQL', { skip: skipWithoutPostgres }, () => suite('postgres', postgresStore));
}

/**
 * Gives a contract suite its store: made by `make` and migrated before the suite's first
 * test (migrating twice, since a second run must be a no-op), and disposed of after its last.
 */
export function useMigratedStore(make: () => Promise<TestStore>, use: (store: Store) => void): void {
  let dispose: () => Promise<void> = async () => {};
  before(async () => {
    const made = await make();
    dispose = made.dispose;
    await made.store.migrate();
    await made.store.migrate();
    use(made.store);
  });
  after(async () => dispose());
}

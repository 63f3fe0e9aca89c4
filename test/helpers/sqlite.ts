/** A SQLite store in a fresh temporary directory, for the store contract suites run on SQLite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

/** Opens a store in a new directory named after `prefix`; `dispose()` closes it and removes the directory. */
export async function tempSqliteStore(prefix: string): Promise<{ store: SqliteStore; dispose: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const store = new SqliteStore({ path: join(dir, 'test.db'), durability: 'normal' });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

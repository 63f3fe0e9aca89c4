/**
 * Raw SQL against the database behind a store, SQLite or PostgreSQL, for tests that check
 * what is stored (a secret sealed at rest, a token kept only as a hash). `?` placeholders.
 */
import type { Store } from '../../src/storage/contract/store.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

type Row = Record<string, any>;

/** Runs one statement; resolves with its rows (none for a write). */
export async function rawRows(store: Store, sql: string, ...params: unknown[]): Promise<Row[]> {
  if (store instanceof SqliteStore) {
    const stmt = store.db.prepare(sql);
    if (stmt.reader) return stmt.all(...params) as Row[];
    stmt.run(...params);
    return [];
  }
  if (store instanceof PostgresStore) {
    let n = 0;
    return [...(await store.sql.unsafe(sql.replace(/\?/g, () => `$${++n}`), params as never[]))] as Row[];
  }
  throw new Error('rawRows: not a SQLite or PostgreSQL store');
}

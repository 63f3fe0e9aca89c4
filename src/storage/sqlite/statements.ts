/** Prepared statements of one SQLite connection, prepared once and reused. */
import type { Database, Statement } from 'better-sqlite3';

/** Prepared statements by SQL text. */
export class StatementCache {
  private readonly stmts = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  /** The prepared statement of `sql`, prepared on first use (tables exist only after migrating). */
  get(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }
}

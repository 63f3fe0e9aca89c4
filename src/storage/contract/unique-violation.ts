/**
 * Uniqueness violations of either database: SQLite's SQLITE_CONSTRAINT_UNIQUE, PostgreSQL's
 * 23505. Part of the contract: both stores let them through as their driver raised them.
 */

/** SQLite's extended result code for a UNIQUE or PRIMARY KEY violation. */
const SQLITE_UNIQUE = 'SQLITE_CONSTRAINT_UNIQUE';
/** PostgreSQL's SQLSTATE unique_violation. */
const POSTGRES_UNIQUE = '23505';

/** True if `e` is a uniqueness violation reported by either database driver. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === SQLITE_UNIQUE || code === POSTGRES_UNIQUE;
}

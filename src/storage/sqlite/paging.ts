/** One page of a SQLite listing, ordered by a unique key (the shared iterator rules in shared/paging.ts). */
import type { Statement } from 'better-sqlite3';
import type { Page, PageQuery } from '../contract/paging.js';
import { finishPage, pageBounds } from '../shared/paging.js';
import type { Row } from '../shared/rows.js';
import { BOUND_LIMIT } from './statements.js';

/** A listing: rows of `from` (a table or a parenthesised select) matching `where`, ordered by `key`. */
export interface SqliteListing<T> {
  from: string;
  key: string;
  /** Conditions joined with AND, with `args` for their placeholders (and those of `from`, first). */
  where: string;
  args: unknown[];
  defaultOrder: 'ascending' | 'descending';
  map: (r: Row) => T;
}

/** Fetches one page of `listing`, preparing its SQL with `prepare`. */
export function sqlitePage<T>(prepare: (sql: string) => Statement, listing: SqliteListing<T>, q: PageQuery): Page<T> {
  const { from, key, where, args, defaultOrder, map } = listing;
  const b = pageBounds(q, defaultOrder);
  const conds = where ? [where] : [];
  const allArgs = [...args];
  if (b.after !== undefined) {
    conds.push(`${key} ${b.cmp} ?`);
    allArgs.push(b.after);
  }
  const sql = `SELECT * FROM ${from} AS t ${conds.length ? 'WHERE ' + conds.join(' AND ') : ''} ORDER BY ${key} ${b.sqlOrder} ${BOUND_LIMIT}`;
  allArgs.push(q.limit + 1);
  const rows = prepare(sql).all(...allArgs) as Row[];
  return finishPage(rows, q.limit, b, (r) => r[key] as string, map);
}

/** One page of a PostgreSQL listing, ordered by a unique key (the shared iterator rules in shared/paging.ts). */
import type { Sql } from 'postgres';
import type { Page, PageQuery } from '../contract/paging.js';
import { finishPage, pageBounds } from '../shared/paging.js';
import type { Row } from '../shared/rows.js';

/** Collects positional parameters for dynamic SQL. */
export class Params {
  readonly values: unknown[] = [];
  /** Adds a value; returns its placeholder. */
  add(v: unknown): string {
    this.values.push(v);
    return '$' + this.values.length;
  }
}

/** A listing: rows of `from` (a table, or a parenthesised select built with the same parameters) matching `where`, ordered by `key`. */
export interface PgListing<T> {
  from: string | ((p: Params) => string);
  key: string;
  /** Conditions joined with AND. */
  where: (p: Params) => string[];
  defaultOrder: 'ascending' | 'descending';
  map: (r: Row) => T;
}

/** Fetches one page of `listing` (a prepared statement per distinct SQL text). */
export async function pgPage<T>(sql: Sql, listing: PgListing<T>, q: PageQuery): Promise<Page<T>> {
  const { from, key, where, defaultOrder, map } = listing;
  const b = pageBounds(q, defaultOrder);
  const p = new Params();
  const source = typeof from === 'string' ? from : from(p);
  const conds = where(p);
  if (b.after !== undefined) conds.push(`t.${key} ${b.cmp} ${p.add(b.after)}`);
  const text = `SELECT * FROM ${source} AS t ${conds.length ? 'WHERE ' + conds.join(' AND ') : ''} ORDER BY t.${key} ${b.sqlOrder} LIMIT ${p.add(q.limit + 1)}`;
  const rows = (await sql.unsafe(text, p.values as never[], { prepare: true })) as Row[];
  return finishPage(rows, q.limit, b, (r) => r[key] as string, map);
}

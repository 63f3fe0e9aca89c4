/** Iterator paging shared by the stores: ordered by a unique key, `limit + 1` rows fetched. */
import type { Page, PageQuery } from '../contract/paging.js';

export interface PageBounds {
  /** The key to continue from, if any. */
  after: string | undefined;
  /** Comparison with `after` in the direction of travel. */
  cmp: '>' | '<';
  sqlOrder: 'ASC' | 'DESC';
  /** Travelling against the requested order (a `-` iterator): rows are reversed at the end. */
  backwards: boolean;
}

/** Works out the direction of travel from the requested order and iterator. */
export function pageBounds(q: PageQuery, defaultOrder: 'ascending' | 'descending'): PageBounds {
  const ascending = (q.order ?? defaultOrder) === 'ascending';
  let iterator = q.iterator;
  let backwards = false;
  if (iterator?.startsWith('-')) {
    backwards = true;
    iterator = iterator.slice(1);
  }
  const forwardAsc = ascending !== backwards;
  return { after: iterator || undefined, cmp: forwardAsc ? '>' : '<', sqlOrder: forwardAsc ? 'ASC' : 'DESC', backwards };
}

/** Turns `limit + 1` fetched rows into a page with `iterator`, `prevIterator` and `done`. */
export function finishPage<R, T>(rows: R[], limit: number, b: PageBounds, keyOf: (r: R) => string, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  if (b.backwards) kept.reverse();
  const first = kept[0];
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    iterator: last ? keyOf(last) : (b.backwards ? null : (b.after ?? null)),
    prevIterator: first ? '-' + keyOf(first) : null,
    done: b.backwards ? false : !more,
  };
}

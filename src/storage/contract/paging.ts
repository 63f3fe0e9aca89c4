/** Iterator paging: the query of a page and the page, shared by every listing of the stores. */

export type Order = 'ascending' | 'descending';

/** Which page of a listing to fetch. */
export interface PageQuery {
  limit: number;
  /** Opaque position from a previous page; a leading '-' pages backwards. */
  iterator?: string | undefined;
  order?: Order | undefined;
}

/** One page of a listing, with the iterators to the next and previous pages. */
export interface Page<T> {
  data: T[];
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

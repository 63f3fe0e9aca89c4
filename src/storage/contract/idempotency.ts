/** Responses stored under an idempotency key, replayed while fresh. */

export interface IdempotentResponse {
  status: number;
  body: string;
  contentType: string;
}

/**
 * A response to store under an idempotency key with the write that produced it, in the same
 * transaction (a publish): a retry after an answer that never arrived, or after a commit whose
 * outcome was in doubt, then gets this response rather than storing the message again.
 */
export interface IdempotentEntry {
  key: string;
  response: IdempotentResponse;
  expiresAt: number;
}

/** How a write meets another process's lock on the database. */
export interface LockWaitOptions {
  /**
   * false: fail at once with the busy fault (`SQLITE_BUSY`) while another process holds the
   * write lock, instead of waiting it out with the event loop stopped (SQLite's busy timeout).
   * Stores whose writes never wait that way ignore it. Default true.
   */
  lockWait?: boolean;
}

/** Responses stored under idempotency keys. */
export interface IdempotencyStore {
  /** A stored response for an idempotency key, if one is fresh. */
  getIdempotent(key: string, nowMs: number): Promise<IdempotentResponse | null>;
  /**
   * The fresh stored responses of many keys at once (one query), in the order of `keys`: null
   * where a key has none. Requests that arrive together share one read this way.
   */
  getIdempotentBatch(keys: readonly string[], nowMs: number): Promise<(IdempotentResponse | null)[]>;
  /** Stores a response until `expiresAt`, dropping entries expired at `nowMs`. */
  putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number, options?: LockWaitOptions): Promise<void>;
  /**
   * Stores responses in one transaction, each replacing what its key held (the last of a key
   * wins). Expired entries are left to `dropExpiredIdempotent`.
   */
  putIdempotentBatch(entries: IdempotentEntry[]): Promise<void>;
  /**
   * Deletes the entries expired at `nowMs`, at most `limit` of them; returns how many went.
   * Entries stored by publishes are only removed here (retention runs it).
   */
  dropExpiredIdempotent(nowMs: number, limit: number): Promise<number>;
}

/** What each database implements: the composed store reads a single key as a batch of one. */
export type IdempotencyStorePart = Omit<IdempotencyStore, 'getIdempotent'>;

/** Responses stored under an idempotency key, replayed while fresh. */

export interface IdempotentResponse {
  status: number;
  body: string;
  contentType: string;
}

/** Responses stored under idempotency keys. */
export interface IdempotencyStore {
  /** A stored response for an idempotency key, if one is fresh. */
  getIdempotent(key: string, nowMs: number): Promise<IdempotentResponse | null>;
  /** Stores a response until `expiresAt`, dropping entries expired at `nowMs`. */
  putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number): Promise<void>;
}

/**
 * The registry of error codes. Each code has one HTTP status; codes are never reused.
 * API error bodies are `{"code": ..., "detail": ...}`.
 */
export const ERRORS = {
  bad_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** A pull cursor or iterator older than the retention horizon: messages after it were deleted. */
  iterator_expired: 410,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  validation: 422,
  invalid_url: 422,
  endpoint_address_refused: 422,
  rate_limited: 429,
  headers_too_large: 431,
  request_timeout: 408,
  invalid_client: 401,
  invalid_scope: 400,
  unsupported_grant_type: 400,
  invalid_request: 400,
  /** A transformation simulated on an example threw, timed out or returned an invalid webhook. */
  transformation_failed: 400,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** A validation problem in the `{loc, msg, type}` shape of 422 bodies. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** An expected failure with a stable code, turned into an HTTP error body at the edge. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly issues?: ValidationIssue[],
  ) {
    super(detail);
    this.status = ERRORS[code];
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);
export const conflict = (detail: string): AppError => new AppError('conflict', detail);

/** A 422 with one validation issue at `loc`. */
export function invalid(loc: (string | number)[], msg: string, type = 'value_error'): AppError {
  return new AppError('validation', msg, [{ loc, msg, type }]);
}

/** Coerces anything thrown into an Error. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

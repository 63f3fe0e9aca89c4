/** Uniqueness violations of either database turned into one error: a 409 conflict saying what already exists. */
import { conflict } from '../../domain/errors.js';
import { isUniqueViolation } from '../contract/unique-violation.js';

/** The error to throw for `e`: a 409 with `detail` for a uniqueness violation, `e` itself otherwise. */
export function asConflict(e: unknown, detail: string): unknown {
  return isUniqueViolation(e) ? conflict(detail) : e;
}

/** Runs a synchronous write (SQLite), turning a uniqueness violation into a 409. */
export function unique<T>(detail: string, fn: () => T): T {
  try {
    return fn();
  } catch (e: unknown) {
    throw asConflict(e, detail);
  }
}

/** Runs an asynchronous write (PostgreSQL), turning a uniqueness violation into a 409. */
export async function uniqueAsync<T>(detail: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e: unknown) {
    throw asConflict(e, detail);
  }
}

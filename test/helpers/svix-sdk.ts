/** The official `svix` SDK against a test server: a client that never retries, and a check of the error it throws. */
import assert from 'node:assert/strict';
import { ApiException, Svix } from 'svix';

/** A client for `url` with `token`; failed calls are not retried, so a test sees the first answer. */
export const sdkClient = (url: string, token: string): Svix => new Svix(token, { serverUrl: url, retryScheduleInMs: [] });

/** Asserts an SDK call failed with this HTTP status (and error code). */
export function apiError(status: number, code?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${String(e)}`);
    assert.equal(e.code, status, JSON.stringify(e.body));
    if (code !== undefined) assert.equal((e.body as { code?: string }).code, code);
    return true;
  };
}

/** Asserts an SDK call failed with this HTTP status and a body that mentions `text` (a 422's `detail` has no code). */
export function apiErrorMentioning(status: number, text: string) {
  return (e: unknown): boolean => {
    apiError(status)(e);
    assert.ok(JSON.stringify((e as ApiException<unknown>).body).includes(text), `the error mentions ${text}: ${JSON.stringify((e as ApiException<unknown>).body)}`);
    return true;
  };
}

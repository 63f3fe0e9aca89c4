/**
 * The one way a test waits for something to happen: checks a condition again and again until it
 * holds, and fails with what it was waiting for (and the last error) once a deadline passes.
 *
 * The deadline is generous on purpose: the machine that runs the suite is shared and may be slow,
 * and this is a wait, not a timing assertion. A test that proves something does NOT happen, or
 * that it happens within a bound, says so itself.
 */

/** How long `eventually()` waits before it gives up, unless told otherwise. */
export const WAIT_MS = 30_000;

export interface EventuallyOptions {
  /** How long to keep checking before failing; `WAIT_MS` by default. */
  timeoutMs?: number;
  /** Pause between two checks; 10 ms by default. */
  intervalMs?: number;
}

type Held<T> = Exclude<Awaited<T>, false | null | undefined | 0 | ''>;

/**
 * Resolves with the first truthy value `check` returns. A falsy value, or a thrown error (a failed
 * assertion, say), means "not yet": after `timeoutMs` it rejects, naming `what` and giving the last
 * error as the cause.
 */
export async function eventually<T>(check: () => T, what = 'a condition', options: EventuallyOptions = {}): Promise<Held<T>> {
  const { timeoutMs = WAIT_MS, intervalMs = 10 } = options;
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      // A check that never settles (a read from a server that hangs) does not outlive the deadline.
      const value = await settledBy(check(), end);
      if (value) return value as Held<T>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) {
      const detail = lastError === undefined ? '' : `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `value`, or a rejection once `end` (a time in ms) has passed while it is still pending. */
function settledBy<T>(value: T, end: number): Promise<Awaited<T>> {
  const pending: Promise<Awaited<T>> = Promise.resolve(value);
  if (typeof (value as { then?: unknown } | null)?.then !== 'function') return pending;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the check itself did not finish in time')), Math.max(0, end - Date.now()) + 1000);
  });
  return Promise.race([pending, late]).finally(() => clearTimeout(timer));
}

/**
 * A fixed pause. Only for a test that proves something does NOT happen within a window, or for a
 * pace that is part of what is tested; to wait for something to happen, use `eventually()`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** How a broker consumer's session ends: resolved when stopped, rejected on the first failure. */

export interface SessionEnd {
  /** Settles once: resolves when the signal aborts, rejects with the first failure. */
  promise: Promise<void>;
  fail(e: unknown): void;
  readonly settled: boolean;
}

export function untilStopped(signal: AbortSignal): SessionEnd {
  let settle!: (e: unknown) => void;
  const state = { settled: false };
  const promise = new Promise<void>((resolve, reject) => {
    settle = (e: unknown) => {
      if (state.settled) return;
      state.settled = true;
      if (e === undefined) resolve();
      else reject(e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e)));
    };
  });
  // Nobody may be awaiting yet; the rejection is observed by whoever awaits later.
  promise.catch(() => undefined);
  if (signal.aborted) settle(undefined);
  else signal.addEventListener('abort', () => settle(undefined), { once: true });
  return {
    promise,
    fail: (e) => settle(e ?? new Error('failed')),
    get settled() {
      return state.settled;
    },
  };
}

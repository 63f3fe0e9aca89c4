/**
 * Real, monotonic time for budgets of work (how long to rest, how often to wake readers),
 * whatever clock the rest of the node is given: a test that moves the application's clock by
 * hand must not hold such waits, and a wall clock that is set back must not stretch them.
 */
import type { Clock, TimerHandle } from '../domain/clock.js';

export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

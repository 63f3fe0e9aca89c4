/** The real clock. */
import type { Clock, TimerHandle } from '../domain/clock.js';

export const systemClock: Clock = {
  now: () => Date.now(),
  /**
   * Node counts a timer from the time its event loop read at the start of the current turn, so
   * a timer set late in a long turn fires that much before `now()` reads its time, and whoever
   * it woke finds nothing due yet (a retry looked for just before it falls due). The time is
   * checked on the monotonic clock when the timer fires, and a timer that fired early waits
   * for the rest; a wall clock that is set back does not hold it.
   */
  setTimer(ms: number, fn: () => void): TimerHandle {
    const due = performance.now() + Math.max(0, ms);
    let timer: NodeJS.Timeout;
    const arm = (wait: number): void => {
      timer = setTimeout(() => {
        const early = due - performance.now();
        if (early > 0) arm(Math.ceil(early));
        else fn();
      }, wait);
      timer.unref();
    };
    arm(Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * The real clock's timers never fire before `now()` reads their time. Node counts a timer from
 * the time its event loop read at the start of the current turn, so a timer set late in a long
 * turn would fire early by as much: a retry's wake-up then finds the retry not due yet.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/platform/system-clock.js';

/** The clock's timers do not hold the process open (unref): this one does, while a test waits. */
async function held<T>(work: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    return await work;
  } finally {
    clearInterval(keepAlive);
  }
}

/** Keeps this turn of the event loop busy for `ms`. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('the system clock', () => {
  it('fires each timer once, never before the time it was set for, even when set late in a long turn', async () => {
    const early: number[] = [];
    const fired: number[] = [];
    const timers: Promise<void>[] = [];
    // One turn of the loop: each timer is set a few milliseconds later than the one before.
    for (let i = 0; i < 8; i++) {
      busy(3);
      const at = systemClock.now() + 10;
      timers.push(
        new Promise<void>((resolve) =>
          systemClock.setTimer(10, () => {
            fired.push(i);
            if (systemClock.now() < at) early.push(at - systemClock.now());
            resolve();
          }),
        ),
      );
    }
    await held(Promise.all(timers));
    assert.deepEqual(early, [], 'no timer fired before its time');
    assert.deepEqual([...fired].sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'each once');
  });

  it('does not fire a cancelled timer', async () => {
    let fired = false;
    systemClock.setTimer(5, () => (fired = true)).cancel();
    await held(new Promise((r) => setTimeout(r, 30)));
    assert.equal(fired, false);
  });
});

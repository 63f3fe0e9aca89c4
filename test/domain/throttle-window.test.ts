/**
 * An endpoint's `throttleRate` in any one-second window: a bucket whose burst is a twentieth of
 * a second's tokens (rounded down, at least one) lets a greedy sender, taking every token the
 * moment it is earned, send at most the rate plus that burst less one in any window; below
 * 40/s, the rate itself.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket, throttleBurst } from '../../src/domain/token-bucket.js';

/** Most sends in any [t, t + 1000) window of a sender that takes a token whenever one is there, for `ms`. */
function busiestSecond(rate: number, ms: number): number {
  const bucket = new TokenBucket(rate, throttleBurst(rate), 0);
  const sends: number[] = [];
  for (let t = 0; t <= ms; t++) {
    const got = bucket.take(Number.MAX_SAFE_INTEGER, t);
    for (let i = 0; i < got; i++) sends.push(t);
  }
  let busiest = 0;
  for (let i = 0, j = 0; i < sends.length; i++) {
    while (sends[j]! < sends[i]! - 999) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  return busiest;
}

describe('throttleRate in any one-second window', () => {
  it('bursts a twentieth of a second of tokens, rounded down, at least one', () => {
    assert.deepEqual([1, 2, 19, 25, 39, 40, 59, 60, 100, 1000].map(throttleBurst), [1, 1, 1, 1, 1, 2, 2, 3, 5, 50]);
  });

  for (const rate of [1, 2, 5, 10, 25, 39, 40, 100, 1000]) {
    it(`holds at ${rate}/s at most ${rate < 40 ? 'the rate' : 'the rate plus the burst less one'}`, () => {
      const busiest = busiestSecond(rate, 5000);
      assert.equal(busiest, rate < 40 ? rate : rate + throttleBurst(rate) - 1);
      assert.ok(busiest <= rate * 1.05, `${busiest} at ${rate}/s: within 5 % of the rate`);
    });
  }
});

/** The wait between a failing sink's tries: doubling from 1 s, spread ±20%, never over 10 minutes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SINK_BACKOFF_CAP_MS, sinkBackoffMs } from '../../src/bridges/streams/sink-backoff.js';

describe('sink backoff', () => {
  it('doubles from one second without jitter (random 0.5)', () => {
    const waits = [1, 2, 3, 4, 5, 10].map((n) => sinkBackoffMs(n, () => 0.5));
    assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 512000]);
  });

  it('stops at ten minutes, however many failures', () => {
    for (const n of [11, 12, 40, 1000, Number.MAX_SAFE_INTEGER]) {
      for (const r of [0, 0.5, 0.999999]) assert.equal(sinkBackoffMs(n, () => r) <= SINK_BACKOFF_CAP_MS, true, `failures ${n}, random ${r}`);
    }
    assert.equal(sinkBackoffMs(20, () => 0.5), SINK_BACKOFF_CAP_MS);
  });

  it('spreads each wait by at most a fifth either way', () => {
    assert.equal(sinkBackoffMs(3, () => 0), 3200);
    assert.equal(sinkBackoffMs(3, () => 0.999999), 4800);
    for (let i = 0; i < 200; i++) {
      const w = sinkBackoffMs(2);
      assert.ok(w >= 1600 && w <= 2400, `${w}`);
    }
  });

  it('treats zero or fewer failures as the first', () => {
    assert.equal(sinkBackoffMs(0, () => 0.5), 1000);
    assert.equal(sinkBackoffMs(-3, () => 0.5), 1000);
  });
});

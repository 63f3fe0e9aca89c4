/**
 * Group commit with a least interval between commits (SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS):
 * the first commit goes at once, work arriving within the interval after a commit started waits
 * and shares the next one, a full batch does not wait, and without an interval every commit
 * starts as soon as the last one ended.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../src/engine/group-commit.js';

/** A group commit that records each batch and when it started. */
function recorded(maxBatch: number, minIntervalMs: number) {
  const batches: { items: number[]; at: number }[] = [];
  const gc = new GroupCommit<number, number>(
    async (items) => {
      batches.push({ items: [...items], at: performance.now() });
      return items;
    },
    maxBatch,
    undefined,
    minIntervalMs,
  );
  return { gc, batches };
}

describe('group commit: least interval between commits', () => {
  it('commits the first batch at once', { timeout: 5000 }, async () => {
    // A wait of a minute would time the test out.
    const { gc, batches } = recorded(1000, 60_000);
    assert.equal(await gc.submit(1), 1);
    assert.equal(batches.length, 1);
  });

  it('holds what arrives until the interval has passed since the last commit started, then commits it in one', async () => {
    const { gc, batches } = recorded(1000, 60);
    assert.equal(await gc.submit(1), 1);
    assert.deepEqual(await Promise.all([gc.submit(2), gc.submit(3), gc.submit(4)]), [2, 3, 4]);
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [2, 3, 4]],
    );
    const gap = batches[1]!.at - batches[0]!.at;
    // Timers run on the event loop's millisecond clock: allow for one millisecond of it.
    assert.ok(gap >= 58, `the second commit started ${gap} ms after the first`);
  });

  it('does not hold a full batch', { timeout: 5000 }, async () => {
    const { gc, batches } = recorded(3, 60_000);
    await gc.submit(1);
    // Three items fill a batch: it goes at once, not a minute later (the test would time out).
    assert.deepEqual(await Promise.all([gc.submit(2), gc.submit(3), gc.submit(4)]), [2, 3, 4]);
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [2, 3, 4]],
    );
  });

  it('without an interval, commits each batch as soon as the last one ended', async () => {
    const { gc, batches } = recorded(1000, 0);
    await gc.submit(1);
    await gc.submit(2);
    await Promise.all([gc.submit(3), gc.submit(4)]);
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [2], [3, 4]],
    );
  });
});

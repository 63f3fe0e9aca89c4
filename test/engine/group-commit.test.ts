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
    { maxBatch, minIntervalMs },
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
  it('with startAtOnce, starts the first batch in the submitter\'s turn; what arrives while it runs shares the next', async () => {
    const started: number[][] = [];
    let finish!: () => void;
    const gc = new GroupCommit<number, number>(
      async (items) => {
        started.push([...items]);
        if (started.length === 1) await new Promise<void>((r) => (finish = r));
        return items;
      },
      { startAtOnce: true },
    );
    const first = gc.submit(1);
    assert.deepEqual(started, [[1]], 'started before the submitter\'s turn ended');
    const rest = [gc.submit(2), gc.submit(3)];
    assert.deepEqual(started, [[1]], 'the others wait for the first batch');
    finish();
    assert.deepEqual(await Promise.all([first, ...rest]), [1, 2, 3]);
    assert.deepEqual(started, [[1], [2, 3]]);
    // Idle again: the next item starts at once too.
    const again = gc.submit(4);
    assert.deepEqual(started.at(-1), [4]);
    assert.equal(await again, 4);
  });

  it('without startAtOnce, gathers what the same turn submits', async () => {
    const { gc, batches } = recorded(1000, 0);
    const all = [gc.submit(1), gc.submit(2)];
    assert.equal(batches.length, 0, 'nothing started in the submitter\'s turn');
    await Promise.all(all);
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1, 2]],
    );
  });
});

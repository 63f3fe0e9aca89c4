/**
 * Attempt records are written in batches: a record waits up to 2 ms for company, unless
 * something waits on it (the next message of an ordering key), when its batch is written at
 * once; records that arrive while a write is queued share it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AttemptWriter } from '../../src/engine/attempt-writer.js';
import type { AttemptRecord, Store } from '../../src/storage/contract/store.js';

/** A store that records the batches written to it. */
function batchStore() {
  const batches: number[][] = [];
  const store = {
    recordAttempts: async (records: AttemptRecord[]) => {
      batches.push(records.map((r) => r.deliveryId));
      return { resent: [] };
    },
  };
  return { store: store as unknown as Store, batches };
}

const record = (deliveryId: number): AttemptRecord => ({ deliveryId }) as unknown as AttemptRecord;

describe('attempt writer', () => {
  it('writes a record something waits on at once, with the records queued before it', async () => {
    const { store, batches } = batchStore();
    const writer = new AttemptWriter(store, pino({ level: 'silent' }), () => {});
    const first = writer.add(record(1));
    const urgent = writer.add(record(2), { now: true });
    // Microtasks only: no timer can fire in between, so the window cannot have run out.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.deepEqual(batches, [[1, 2]], 'written without waiting out the window');
    await Promise.all([first, urgent]);
  });

  it('batches records that nothing waits on', async () => {
    const { store, batches } = batchStore();
    const writer = new AttemptWriter(store, pino({ level: 'silent' }), () => {});
    await Promise.all([writer.add(record(1)), writer.add(record(2)), writer.add(record(3))]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });
});

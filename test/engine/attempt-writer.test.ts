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

/** A store whose record writes fail with the given errors in turn, then succeed. */
function failingStore(failures: Error[]) {
  const tries: number[][] = [];
  const store = {
    recordAttempts: async (records: AttemptRecord[]) => {
      tries.push(records.map((r) => r.deliveryId));
      const e = failures.shift();
      if (e) throw e;
      return { resent: [0] };
    },
  };
  return { store: store as unknown as Store, tries };
}

const fault = (code: string): Error => Object.assign(new Error(code), { code });
const QUICK = { firstDelayMs: 5, maxDelayMs: 10, windowMs: 300 };

describe('attempt writer: the database away', () => {
  it('writes a batch again while the database is unreachable, and reports it once written', async () => {
    const { store, tries } = failingStore([fault('42P01'), fault('57P03'), fault('CONNECTION_CLOSED')]);
    const written: unknown[] = [];
    const writer = new AttemptWriter(store, pino({ level: 'silent' }), (records, recorded) => written.push({ n: records.length, recorded }), QUICK);
    await writer.add(record(1), { now: true });
    // 42P01 (no such table) is not the database away; 57P03 (starting up) and CONNECTION_CLOSED are.
    assert.equal(tries.length, 1, 'an error that is not the database away is not tried again');
    assert.deepEqual(written, []);
    await writer.add(record(2), { now: true });
    assert.deepEqual(tries.slice(1), [[2], [2], [2]], 'tried until the database answered');
    assert.deepEqual(written, [{ n: 1, recorded: { resent: [0] } }]);
  });

  it('counts a batch as written when a try after a lost connection finds its records stored', async () => {
    const { store, tries } = failingStore([fault('CONNECTION_CLOSED'), fault('23505')]);
    const written: unknown[] = [];
    const writer = new AttemptWriter(store, pino({ level: 'silent' }), (_records, recorded) => written.push(recorded), QUICK);
    await writer.add(record(1), { now: true });
    assert.equal(tries.length, 2);
    assert.deepEqual(written, [{ resent: [] }], 'written, by the try that lost its connection');
  });

  it('gives up once the window has passed, and at once when retries are stopped', async () => {
    const away = Array.from({ length: 1000 }, () => fault('57P01'));
    const { store, tries } = failingStore(away);
    const writer = new AttemptWriter(store, pino({ level: 'silent' }), () => {}, { firstDelayMs: 20, maxDelayMs: 20, windowMs: 100 });
    await writer.add(record(1), { now: true });
    assert.ok(tries.length >= 2 && tries.length <= 7, `tried ${tries.length} times within the window`);
    const slow = new AttemptWriter(store, pino({ level: 'silent' }), () => {}, { firstDelayMs: 60_000, maxDelayMs: 60_000, windowMs: 600_000 });
    const pending = slow.add(record(2), { now: true });
    await new Promise((r) => setTimeout(r, 20));
    const before = tries.length;
    slow.stopRetries();
    await pending;
    assert.equal(tries.length, before + 1, 'one last try, then no wait');
  });
});

/**
 * SQLite waits for another process's write lock on the calling thread: the event loop stands
 * still for up to the busy timeout. The storage probe, which runs every few seconds while the
 * database is busy, asks not to wait (`lockWait: false`): it fails at once with the busy fault,
 * while other writes still wait the lock out and succeed once it is released. The stream sinks'
 * round, which runs every second, takes the lock only when it finds a due sink, and then does
 * not wait for it either.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyStorageFault } from '../../src/storage/contract/storage-faults.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { newId } from '../../src/domain/ids.js';
import { sinkRecord, T0 } from '../helpers/fixtures.js';
import { holdSqliteWriteLock } from '../helpers/sqlite-lock-holder.js';

/** How long the other process keeps the lock: shorter than the busy timeout (5 s). */
const HOLD_MS = 2000;

describe('SQLite writes and another process holding the write lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-lock-'));
  const path = join(dir, 'test.db');
  let store: SqliteStore;

  before(async () => {
    store = new SqliteStore({ path, durability: 'normal' });
    await store.migrate();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write asked not to wait fails at once with the busy fault; a default one waits the lock out', async () => {
    const holder = holdSqliteWriteLock(path, { releaseAfterMs: HOLD_MS });
    try {
      assert.equal(await holder.next(), 'locked');
      const res = { status: 204, body: 'probe', contentType: 'text/plain' };
      await assert.rejects(
        store.putIdempotent('no-wait', res, T0 + 1000, T0, { lockWait: false }),
        (e: unknown) => classifyStorageFault(e)?.kind === 'busy',
        'refused while the lock is held, before the holder gives it back',
      );
      await store.putIdempotent('waits', res, T0 + 1000, T0);
      assert.deepEqual(await store.getIdempotent('waits', T0), res, 'the default write waited for the lock and was stored');
      assert.equal(await store.getIdempotent('no-wait', T0), null);
      assert.equal(await holder.next(), 'released');
    } finally {
      await holder.stop();
    }
  });

  it('the sinks round takes no lock when no sink is due, and does not wait for one when a sink is', async () => {
    const streamId = newId('stream', T0);
    await store.streams.createStream({ id: streamId, uid: null, name: 'locked', description: null, metadata: {}, createdAt: T0, updatedAt: T0 });
    const sink = sinkRecord(streamId);
    await store.streams.createSink(sink);
    const now = T0 + 10_000;
    // Held until stopped: a round that asked for the lock would wait the busy timeout out and fail.
    const holder = holdSqliteWriteLock(path);
    try {
      assert.equal(await holder.next(), 'locked');
      assert.deepEqual(await store.streams.leaseDueSinks(now, 1000, 10), [], 'nothing due: answered without the lock');
    } finally {
      await holder.stop();
    }
    await store.streams.appendEvents(streamId, [{ id: 'evt_1', eventType: 'order.created', payload: '{}', createdAt: T0 }]);
    const releasing = holdSqliteWriteLock(path, { releaseAfterMs: HOLD_MS });
    try {
      assert.equal(await releasing.next(), 'locked');
      await assert.rejects(
        store.streams.leaseDueSinks(now, 1000, 10),
        (e: unknown) => classifyStorageFault(e)?.kind === 'busy',
        'a due sink: refused at once while the lock is held, before the holder gives it back',
      );
      assert.equal(await releasing.next(), 'released');
      assert.deepEqual((await store.streams.leaseDueSinks(now, 1000, 10)).map((l) => l.sink.id), [sink.id], 'leased once the lock is free');
    } finally {
      await releasing.stop();
    }
  });
});

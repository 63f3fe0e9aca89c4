/**
 * SQLite waits for another process's write lock on the calling thread: the event loop stands
 * still for up to the busy timeout. The storage probe, which runs every few seconds while the
 * database is busy, asks not to wait (`lockWait: false`): it fails at once with the busy fault,
 * while other writes still wait the lock out and succeed once it is released.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyStorageFault } from '../../src/storage/contract/storage-faults.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { T0 } from '../helpers/fixtures.js';
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
});

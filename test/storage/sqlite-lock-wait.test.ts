/**
 * SQLite waits for another process's write lock on the calling thread: the event loop stands
 * still for up to the busy timeout. The storage probe, which runs every few seconds while the
 * database is busy, asks not to wait (`lockWait: false`): it fails at once with the busy fault,
 * while other writes still wait the lock out and succeed once it is released.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { classifyStorageFault } from '../../src/storage/contract/storage-faults.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { T0 } from '../helpers/fixtures.js';

/** How long the other process keeps the lock: far shorter than the busy timeout (5 s). */
const HOLD_MS = 2000;

/** Another process that takes the database's write lock, and gives it back after `HOLD_MS`. */
function lockHolder(path: string): { child: ChildProcessWithoutNullStreams; next: () => Promise<string> } {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import Database from 'better-sqlite3';
       const db = new Database(process.argv[1]);
       db.exec('BEGIN IMMEDIATE');
       process.stdout.write('locked\\n');
       setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); }, ${HOLD_MS});
       process.stdin.resume();
       process.stdin.on('end', () => process.exit(0));`,
      path,
    ],
    { cwd: process.cwd() },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, next: async () => String((await lines.next()).value) };
}

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
    const holder = lockHolder(path);
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
      holder.child.stdin.end();
      holder.child.kill();
    }
  });
});

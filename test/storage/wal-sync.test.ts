/** The WAL syncer behind full-durability publishes on SQLite. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from '../../src/storage/sqlite/wal-sync.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

describe('WAL sync', () => {
  it('resolves every caller, also those arriving while a round runs, and closes after the last round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-walsync-'));
    try {
      writeFileSync(join(dir, 'x-wal'), 'frames');
      const w = new WalSync(join(dir, 'x-wal'));
      const first = Array.from({ length: 50 }, () => w.sync());
      await Promise.resolve();
      const second = Array.from({ length: 50 }, () => w.sync());
      const done = await Promise.allSettled([...first, ...second]);
      assert.deepEqual(new Set(done.map((d) => d.status)), new Set(['fulfilled']));
      const last = w.sync();
      await w.close();
      await last;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects when the log cannot be opened, instead of acknowledging', async () => {
    const w = new WalSync(join(tmpdir(), 'switchboard-no-such-dir', 'x-wal'));
    await assert.rejects(w.sync(), /ENOENT/);
    await w.close();
  });

  it('a full-durability store publishes through it and the rows are there after reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-walsync-'));
    const path = join(dir, 'db.sqlite');
    try {
      let store = new SqliteStore({ path, durability: 'full' });
      await store.migrate();
      const now = Date.now();
      const items = Array.from({ length: 20 }, (_, i) => ({
        message: { id: `msg_walsync${String(i).padStart(4, '0')}`, appId: 'app_w', eventType: 'w.t', eventId: null, channels: [], tags: [], payload: `{"i":${i}}`, createdAt: now },
        deliveries: [],
      }));
      const results = await Promise.all(items.map((it) => store.publish([it])));
      assert.equal(results.flat().filter((r) => r.kind === 'created').length, 20);
      await store.close();
      store = new SqliteStore({ path, durability: 'full' });
      const m = await store.getMessage('app_w', 'msg_walsync0019');
      assert.equal(m?.payload, '{"i":19}');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

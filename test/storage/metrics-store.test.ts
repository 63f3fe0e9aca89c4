/** The queue counts behind the queue metrics, on SQLite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { queueStatsContract } from '../helpers/queue-stats-contract.js';

queueStatsContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-queue-'));
  const store = new SqliteStore({ path: join(dir, 'test.db'), durability: 'normal' });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

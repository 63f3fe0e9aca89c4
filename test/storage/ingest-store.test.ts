/** The ingest storage contract on SQLite (the suite is in helpers/ingest-store-contract.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '../../src/security/crypto.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { ingestStoreContract } from '../helpers/ingest-store-contract.js';

ingestStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-ingest-store-'));
  const store = new SqliteStore({ path: join(dir, 'test.db'), durability: 'normal', box: new SecretBox([Buffer.alloc(32, 7)]) });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

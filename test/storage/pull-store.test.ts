/** The pull storage contract on SQLite and PostgreSQL (the suite is in helpers/pull-contract.ts), and SQLite specifics. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { pullStoreContract } from '../helpers/pull-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(pullStoreContract);

describe('pull migration on SQLite', () => {
  it('numbers messages that existed before it, in insertion order, and numbers new ones after them', () => {
    const dir = fileURLToPath(new URL('../../src/storage/sqlite/migrations/', import.meta.url));
    const db = new Database(':memory:');
    try {
      db.exec(readFileSync(join(dir, '0001_initial.sql'), 'utf8'));
      const insert = db.prepare("INSERT INTO messages (id, app_id, event_type, payload, created_at) VALUES (?, 'app_x', 'a.b', '{}', ?)");
      insert.run('msg_b', 2);
      insert.run('msg_a', 1);
      db.exec(readFileSync(join(dir, '0002_pull.sql'), 'utf8'));
      insert.run('msg_c', 3);
      const rows = db.prepare('SELECT id, seq FROM messages ORDER BY seq').all() as { id: string; seq: number }[];
      assert.deepEqual(rows, [
        { id: 'msg_b', seq: 1 },
        { id: 'msg_a', seq: 2 },
        { id: 'msg_c', seq: 3 },
      ]);
    } finally {
      db.close();
    }
  });
});

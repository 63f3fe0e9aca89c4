/**
 * SQLite statements bind their row counts through `BOUND_LIMIT`: SQLite compiles a statement
 * with a plain `LIMIT ?` again every time that parameter is bound, so a cached statement would
 * pay a whole compile on every run (statements.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { BOUND_LIMIT, StatementCache } from '../../src/storage/sqlite/statements.js';

const sources = fileURLToPath(new URL('../../../src/storage/sqlite/', import.meta.url));

describe('SQLite statements with a bound row count', () => {
  it('never bind a plain LIMIT ? in the SQLite store', () => {
    const files = readdirSync(sources, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 10, `SQLite store sources found: ${files.length}`);
    const plain = files.filter((f) => /LIMIT\s+\?/i.test(readFileSync(sources + f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')));
    assert.deepEqual(plain, [], 'use BOUND_LIMIT (storage/sqlite/statements.ts)');
  });

  it('limit the rows as LIMIT does, whatever number is bound', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY)');
      const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
      for (let k = 1; k <= 10; k++) insert.run(k);
      const first = db.prepare(`SELECT k FROM t ORDER BY k ${BOUND_LIMIT}`).pluck();
      assert.deepEqual(first.all(3), [1, 2, 3]);
      assert.deepEqual(first.all(0), []);
      assert.deepEqual(first.all(50), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(first.all(-1), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'a negative count is no limit, as with LIMIT');
      const offset = db.prepare(`SELECT k FROM t ORDER BY k ${BOUND_LIMIT} OFFSET ?`).pluck();
      assert.deepEqual(offset.all(2, 8), [9, 10]);
    } finally {
      db.close();
    }
  });

  it('a statement cache prepares each text once, and stops keeping new texts past its bound', () => {
    const db = new Database(':memory:');
    try {
      const cache = new StatementCache(db);
      assert.equal(cache.get('SELECT 1 AS x'), cache.get('SELECT 1 AS x'), 'the same text, the same statement');
      for (let i = 0; i < 1100; i++) assert.equal(cache.get(`SELECT ${i} AS x`).pluck().get(), i);
      assert.notEqual(cache.get('SELECT 1050 AS x'), cache.get('SELECT 1050 AS x'), 'past the bound, a text is prepared each time');
      assert.equal(cache.get('SELECT 1 AS x'), cache.get('SELECT 1 AS x'), 'what it kept stays');
    } finally {
      db.close();
    }
  });
});

/**
 * Relaxed commits on SQLite: under full durability a relaxed write runs with
 * `synchronous = NORMAL` and the connection is back at FULL afterwards, also when the write
 * throws; under normal durability nothing is switched.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteConnection } from '../../src/storage/sqlite/connection.js';

const FULL = 2;
const NORMAL = 1;

describe('relaxed commits on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-relaxed-'));
  const open: SqliteConnection[] = [];
  after(async () => {
    for (const c of open) await c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const connect = (durability: 'full' | 'normal', name: string) => {
    const c = new SqliteConnection({ path: join(dir, name), durability });
    open.push(c);
    return c;
  };
  const level = (c: SqliteConnection) => c.db.pragma('synchronous', { simple: true }) as number;

  it('runs the write at NORMAL and goes back to FULL, twice in a row', () => {
    const c = connect('full', 'full.db');
    assert.equal(level(c), FULL);
    for (let i = 0; i < 2; i++) {
      assert.equal(c.relaxed(() => level(c)), NORMAL);
      assert.equal(level(c), FULL);
    }
  });

  it('goes back to FULL when the write throws', () => {
    const c = connect('full', 'throws.db');
    assert.throws(() => c.relaxed(() => { throw new Error('write failed'); }), /write failed/);
    assert.equal(level(c), FULL);
  });

  it('switches nothing under normal durability', () => {
    const c = connect('normal', 'normal.db');
    assert.equal(c.relaxed(() => level(c)), NORMAL);
    assert.equal(level(c), NORMAL);
  });
});

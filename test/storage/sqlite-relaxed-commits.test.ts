/**
 * Relaxed commits on SQLite: under full durability a relaxed write runs with
 * `synchronous = NORMAL` and the connection is back at FULL afterwards, also when the write
 * throws; under normal durability nothing is switched. The logs of refused ingest requests
 * commit relaxed.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteConnection } from '../../src/storage/sqlite/connection.js';
import { SqliteIngestStore } from '../../src/storage/sqlite/ingest.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { log as ingestLog, source, token } from '../helpers/ingest-store-contract.js';
import { T0 } from '../helpers/fixtures.js';

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

  it('commits the logs of refused ingest requests relaxed, without an fsync on the event loop', async () => {
    // Anyone holding a source's URL can make such logs, as fast as the source's request limit
    // lets them: with an fsync each, a flood of forged requests stalled the event loop whenever
    // the disk was slow (publishes beside it took seconds while another process wrote to the disk).
    const path = join(dir, 'ingest.db');
    const setup = new SqliteStore({ path, durability: 'full' });
    await setup.migrate();
    const src = source();
    await setup.ingest.createSource(src, token(), null);
    const sourceId = src.id;
    await setup.close();
    const c = connect('full', 'ingest.db');
    const levels: number[] = [];
    const relaxed = c.relaxed.bind(c);
    c.relaxed = <T>(fn: () => T): T => relaxed(() => (levels.push(level(c)), fn()));
    const ingest = new SqliteIngestStore(c);
    const log = ingestLog(sourceId, T0, { errorText: 'no valid signature' });
    await ingest.addLogs([log], 10);
    assert.deepEqual(levels, [NORMAL], 'the log was written in one relaxed commit');
    assert.equal(level(c), FULL);
    assert.deepEqual((await ingest.listLogs(sourceId, { limit: 10 })).data.map((l) => l.errorText), ['no valid signature']);
  });
});

/**
 * `switchboard migrate`, as run before a deploy: it applies what is pending and says so, says
 * when there was nothing to do, warns about database settings that will slow Switchboard
 * down, and fails with a reason when it cannot reach the database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationFiles } from '../../src/storage/postgres/migrator.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { runCli } from '../helpers/process.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

const TIMEOUT_MS = 60_000;

describe('switchboard migrate', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-migrate-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('migrates the data directory\'s SQLite file, the first time and again', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir }, { timeoutMs: TIMEOUT_MS });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `SQLite database ${join(dataDir, 'switchboard.db')} is up to date\n`);
      assert.equal(r.stderr, '', 'SQLite has no server settings to warn about');
    }
    assert.ok(existsSync(join(dataDir, 'switchboard.db')));
  });

  it('fails with the reason when the database cannot be reached', async () => {
    const r = await runCli(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }, { timeoutMs: TIMEOUT_MS });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ECONNREFUSED 127\.0\.0\.1:1/);
  });

  describe('on PostgreSQL', { skip: skipWithoutPostgres }, () => {
    let s: TestSchema;
    before(async () => {
      s = await createTestSchema('sbmigrate');
    });
    after(async () => s.drop());

    /** The advice a session of `url` gets, as the server's settings stand. */
    async function expectedAdvice(url: string): Promise<string[]> {
      const store = new PostgresStore({ url, max: 1 });
      try {
        return await store.advisories();
      } finally {
        await store.close();
      }
    }

    it('lists each migration it applies, then says there was nothing left to apply, with the server\'s advice last', async () => {
      const env = { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_DATABASE_URL: s.url };
      const advice = (await expectedAdvice(s.url)).map((a) => `warning: ${a}\n`).join('');
      const first = await runCli(['migrate'], env, { timeoutMs: TIMEOUT_MS });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, [...migrationFiles().map((f) => `applied ${f.name}`), 'PostgreSQL schema is up to date', ''].join('\n'));
      assert.equal(first.stderr, advice);
      const again = await runCli(['migrate'], env, { timeoutMs: TIMEOUT_MS });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, 'PostgreSQL schema was already up to date\n');
      assert.equal(again.stderr, advice);
    });

    it('warns, and still succeeds, when the database does not count row changes (autovacuum cannot run)', async () => {
      const u = new URL(s.url);
      u.searchParams.set('track_counts', 'off');
      const r = await runCli(['migrate'], { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_DATABASE_URL: u.toString() }, { timeoutMs: TIMEOUT_MS });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^warning: PostgreSQL's autovacuum is not running \(autovacuum = (on|off), track_counts = off\)/);
      assert.match(r.stderr, /schedule VACUUM \(ANALYZE\)/);
    });
  });
});

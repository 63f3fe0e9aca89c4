/**
 * The data directory is the owner's alone (0700), and so are the files that hold data or
 * keys (0600): the SQLite database, its WAL and shared-memory files, the generated
 * encryption key. Whatever the umask, and also for files an older version left readable.
 * The startup log advises keeping the generated key apart from the data, as docs/security.md does.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createSwitchboard } from '../../src/composition/server.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** Starts a SQLite-backed server on `dataDir` under `umask`, publishes once, and stops; returns what it logged. */
async function runOnce(dataDir: string, umask: number): Promise<string> {
  let logged = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged += chunk.toString();
      done();
    },
  });
  const previous = process.umask(umask);
  try {
    const config = loadConfig({ SWITCHBOARD_PORT: '0', SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ADMIN_TOKEN: 'sb_modes_admin_token' });
    const sb = await createSwitchboard(config, { logger: pino({ level: 'warn' }, sink) });
    const url = await sb.listen();
    const res = await fetch(`${url}/api/v1/app`, {
      method: 'POST',
      headers: { authorization: 'Bearer sb_modes_admin_token', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'modes' }),
    });
    assert.equal(res.status, 201);
    // The WAL and shared-memory files exist while the database is open.
    for (const f of ['switchboard.db-wal', 'switchboard.db-shm']) assert.equal(modeOf(join(dataDir, f)), '600', `${f} while open`);
    await sb.close();
  } finally {
    process.umask(previous);
  }
  return logged;
}

describe('files of the data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'switchboard-modes-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates the directory 0700 and the database and key files 0600, even with umask 000', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const logged = await runOnce(dataDir, 0o000);
    assert.equal(modeOf(dataDir), '700');
    for (const f of ['switchboard.db', 'encryption-key']) assert.equal(modeOf(join(dataDir, f)), '600', f);
    for (const f of ['switchboard.db-wal', 'switchboard.db-shm']) if (existsSync(join(dataDir, f))) assert.equal(modeOf(join(dataDir, f)), '600', f);
    // The advice agrees with docs/security.md: the key is kept apart from the data and its backups.
    assert.match(logged, /generated the key that encrypts secrets at rest; keep a copy apart from the data directory/);
    assert.doesNotMatch(logged, /back it up with the data directory/);
  });

  it('tightens a data directory and files left readable', async () => {
    const dataDir = join(root, 'fresh', 'data');
    chmodSync(dataDir, 0o755);
    for (const f of ['switchboard.db', 'encryption-key']) chmodSync(join(dataDir, f), 0o644);
    const logged = await runOnce(dataDir, 0o022);
    assert.equal(modeOf(dataDir), '700');
    for (const f of ['switchboard.db', 'encryption-key']) assert.equal(modeOf(join(dataDir, f)), '600', f);
    assert.doesNotMatch(logged, /generated the key/, 'the existing key is used');
  });
});

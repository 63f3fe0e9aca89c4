/** A weak admin token: refused at start in production, warned about in development. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminTokenWeakness } from '../../src/security/token-strength.js';
import { MAIN, freePort, startServerProcess } from '../helpers/process.js';

const STRONG = 'Qm9vdHN0cmFwLXRva2VuLWZvci10ZXN0cy0xMjM0NTY'; // 43 characters, many distinct

describe('adminTokenWeakness', () => {
  it('refuses short, repetitive and digits-only tokens, and passes random ones', () => {
    assert.match(adminTokenWeakness('sb_test_admin_token') ?? '', /19 characters; at least 32/);
    assert.match(adminTokenWeakness('abcabcabcabcabcabcabcabcabcabcabcabc') ?? '', /only 3 distinct/);
    assert.match(adminTokenWeakness('12345678901234567890123456789012') ?? '', /digits only/);
    assert.equal(adminTokenWeakness(STRONG), null);
    assert.equal(adminTokenWeakness('sb_admin_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0u1v'), null);
  });
});

/** Runs `switchboard serve` until it exits; resolves with its exit code and what it printed. */
async function serveUntilExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, ...env, SWITCHBOARD_PORT: String(port), SWITCHBOARD_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, output };
}

describe('a weak admin token at start', () => {
  it('is refused in production: a clear message and a non-zero exit code', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-weak-'));
    try {
      const r = await serveUntilExit({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ENV: 'production', SWITCHBOARD_ADMIN_TOKEN: 'letmein-letmein' });
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /switchboard: the admin token is too weak for SWITCHBOARD_ENV=production: it has 15 characters; at least 32 are needed/);
      assert.doesNotMatch(r.output, /letmein/, 'the token itself is never printed');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is accepted with a warning in development', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-weak-'));
    const server = await startServerProcess({ env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ADMIN_TOKEN: 'letmein-letmein', SWITCHBOARD_LOG_LEVEL: 'warn' } });
    try {
      assert.match(server.output(), /the admin token is weak; SWITCHBOARD_ENV=production would refuse to start with it/);
      assert.doesNotMatch(server.output(), /letmein/);
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('does not stop a strong token in production', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-weak-'));
    const server = await startServerProcess({ env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ENV: 'production', SWITCHBOARD_ADMIN_TOKEN: STRONG, SWITCHBOARD_LOG_LEVEL: 'warn' } });
    try {
      assert.doesNotMatch(server.output(), /admin token is weak/);
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * The API test suite once more, on PostgreSQL: every test file that starts its servers
 * through helpers/server.ts runs in a child `node --test` with SWITCHBOARD_TEST_STORE=postgres,
 * so each of its servers keeps its data in a fresh schema of the test database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipWithoutPostgres } from './helpers/requirements.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Files not re-run: they drive the dashboard in a browser, and their API calls are covered by the API files. */
const NOT_RERUN = new Set(['browser.test.js']);

const self = fileURLToPath(import.meta.url).split('/').pop()!;
/** Test files under this folder, as paths relative to it (the suite is grouped in folders by area). */
const files = (readdirSync(here, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.js') && !NOT_RERUN.has(f.split('/').pop()!) && f !== self)
  .filter((f) => readFileSync(join(here, f), 'utf8').includes('/helpers/server.js'))
  .sort();

/** A file still running after this long is stopped with everything it started, and fails. */
const FILE_TIMEOUT_MS = 10 * 60_000;

/** Runs one test file on PostgreSQL; resolves with its exit code and output. */
function runOnPostgres(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', join(here, file)], {
      // Its own process group, so a timeout also stops the servers its tests started.
      detached: true,
      // Without the runner's NODE_TEST_CONTEXT, the child is a test runner of its own, not a subtest of this one.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), SWITCHBOARD_TEST_STORE: 'postgres' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      output += `\n# stopped after ${FILE_TIMEOUT_MS / 60_000} minutes\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, FILE_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the API suite on PostgreSQL', { concurrency: 2, skip: skipWithoutPostgres }, () => {
  it('finds the API test files', () => {
    assert.ok(files.length >= 3, `API test files found: ${files.join(', ')}`);
  });

  for (const file of files) {
    it(file, async (t) => {
      const { code, output } = await runOnPostgres(file);
      const counts = output.match(/^# (tests|pass|fail) \d+$/gm) ?? [];
      t.diagnostic(counts.join(', '));
      if (code !== 0) {
        // The failing subtests with their error blocks, to read here without re-running.
        const failures = output.split('\n').reduce<string[]>((acc, line, i, lines) => {
          if (/^\s*not ok /.test(line)) acc.push(lines.slice(i, i + 25).join('\n'));
          return acc;
        }, []);
        assert.fail(`${file} failed on PostgreSQL (exit ${code}):\n${failures.join('\n---\n').slice(0, 12_000) || output.slice(-6000)}`);
      }
    });
  }
});

/**
 * The API test files run in groups, a few to a process, once on each database: entries under
 * dist/test/on-sqlite/ and dist/test/on-postgres/ (written by the build,
 * scripts/test-groups.mjs) load them, the PostgreSQL ones with SWITCHBOARD_TEST_STORE=postgres
 * so each server keeps its data in a fresh schema of the test database; the suite
 * (scripts/run-tests.mjs) runs the entries instead of the files. This file checks that every
 * API file is loaded by exactly one entry of each database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');

describe('API test files in groups', () => {
  it('every API test file is loaded by exactly one entry on each database', async () => {
    const { apiTestFiles, ENTRIES } = (await import(join(root, 'scripts/test-groups.mjs'))) as { apiTestFiles: (tests: string) => string[]; ENTRIES: Record<string, string> };
    const files = apiTestFiles(here);
    assert.ok(files.length >= 3, `API test files found: ${files.join(', ')}`);
    for (const folder of Object.values(ENTRIES)) {
      // What the entries import, as paths relative to dist/test.
      const dir = join(here, folder);
      const entries = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.js')) : [];
      const loaded = entries.flatMap((e) => [...readFileSync(join(dir, e), 'utf8').matchAll(/await import\('([^']+)'\)/g)].map((m) => relative(here, join(dirname(join(dir, e)), m[1]!)).split(sep).join('/')));
      const rebuild = 'build again (npx tsc -p tsconfig.json && node scripts/copy-assets.mjs)';
      assert.deepEqual(files.filter((f) => !loaded.includes(f)), [], `not loaded by an entry under dist/test/${folder}: ${rebuild}`);
      assert.deepEqual(loaded.filter((f, i) => loaded.indexOf(f) !== i), [], `loaded twice under dist/test/${folder}`);
    }
  });
});

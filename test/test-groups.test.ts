/**
 * The test files run a few to a process, through entries the build writes
 * (scripts/test-groups.mjs): the API files once on each database, under dist/test/on-sqlite/
 * and dist/test/on-postgres/ (the PostgreSQL ones with SWITCHBOARD_TEST_STORE=postgres, so each
 * server keeps its data in a fresh schema of the test database), the other files once, under
 * dist/test/grouped/, but for a few that run alone. The suite (scripts/run-tests.mjs) runs the
 * entries and the files that run alone. This file checks that every test file runs, and only
 * once per database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const rebuild = 'build again (npx tsc -p tsconfig.json && node scripts/copy-assets.mjs)';

interface Groups {
  ENTRIES: Record<string, string>;
  OTHER_ENTRIES: string;
  testFiles: (tests: string) => string[];
  apiTestFiles: (tests: string) => string[];
  suiteFiles: (tests: string) => string[];
}
const groups = async (): Promise<Groups> => (await import(join(root, 'scripts/test-groups.mjs'))) as Groups;

/** The test files the entries under dist/test/`folder` import, as paths relative to dist/test (a file twice if imported twice). */
function loadedBy(folder: string): string[] {
  const dir = join(here, folder);
  const entries = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.js')) : [];
  return entries.flatMap((e) => [...readFileSync(join(dir, e), 'utf8').matchAll(/await import\('([^']+)'\)/g)].map((m) => relative(here, join(dirname(join(dir, e)), m[1]!)).split(sep).join('/')));
}

describe('test files in groups', () => {
  it('every API test file is loaded by exactly one entry on each database, and never run alone', async () => {
    const { apiTestFiles, ENTRIES, suiteFiles } = await groups();
    const files = apiTestFiles(here);
    assert.ok(files.length >= 3, `API test files found: ${files.join(', ')}`);
    for (const folder of Object.values(ENTRIES)) {
      const loaded = loadedBy(folder);
      assert.deepEqual(files.filter((f) => !loaded.includes(f)), [], `not loaded by an entry under dist/test/${folder}: ${rebuild}`);
      assert.deepEqual(loaded.filter((f, i) => loaded.indexOf(f) !== i), [], `loaded twice under dist/test/${folder}`);
    }
    assert.deepEqual(suiteFiles(here).filter((f) => files.includes(f)), [], 'run alone as well');
  });

  it('every other test file runs exactly once: alone, or loaded by one entry', async () => {
    const { apiTestFiles, OTHER_ENTRIES, suiteFiles, testFiles } = await groups();
    const api = new Set(apiTestFiles(here));
    const others = testFiles(here).filter((f) => !api.has(f));
    assert.ok(others.length >= 3, `other test files found: ${others.join(', ')}`);
    const runs = [...suiteFiles(here), ...loadedBy(OTHER_ENTRIES)];
    const times = (f: string): number => runs.filter((r) => r === f).length;
    assert.deepEqual(others.filter((f) => times(f) !== 1).map((f) => `${f}: ${times(f)} times`), [], rebuild);
    assert.ok(others.some((f) => !suiteFiles(here).includes(f)), 'some files are grouped');
  });
});

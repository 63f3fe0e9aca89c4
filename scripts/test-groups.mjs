// Groups of API test files, one process each. An API test file starts its servers through
// test/helpers/server.ts, and loading the server's modules is most of a small file's cost; the
// suite (scripts/run-tests.mjs) runs these files a few to a process instead, through entries
// written here after `tsc` (by copy-assets.mjs):
//   dist/test/on-sqlite/<folder>/group-N.test.js    the files as they are (SQLite)
//   dist/test/on-postgres/<folder>/group-N.test.js  the same files once more with
//     SWITCHBOARD_TEST_STORE=postgres, each server in a fresh schema of the test database
// An entry runs up to GROUP_SIZE files of one folder, one after the other. A file with hooks
// outside any describe() (which would apply to its neighbours) gets an entry of its own.
// Checked by test/test-groups.test.ts.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** The folders of the entries inside the compiled test folder, by database. */
export const ENTRIES = { sqlite: 'on-sqlite', postgres: 'on-postgres' };
/** Most test files one entry runs. */
const GROUP_SIZE = 8;
/**
 * Files not grouped: clients of the server that never touch its storage themselves (the
 * dashboard in a browser, the command line, the examples). They run alone, on SQLite only:
 * what they call is the API, whose own files run on both databases.
 */
const CLIENTS = new Set(['dashboard/browser.test.js', 'dashboard/streams-browser.test.js', 'cli/cli.test.js', 'cli/streams-cli.test.js', 'cli/tasks.test.js', 'examples.test.js']);

const slash = (f) => f.split(sep).join('/');

/** Every compiled test file under `tests` (dist/test) but the entries, relative to it, with `/` separators. */
export function testFiles(tests) {
  const entries = Object.values(ENTRIES).map((e) => `${e}/`);
  return readdirSync(tests, { recursive: true })
    .map((f) => slash(String(f)))
    .filter((f) => f.endsWith('.test.js') && !entries.some((e) => f.startsWith(e)))
    .sort();
}

/** The API test files: they start servers through helpers/server.js, and are not clients. */
export function apiTestFiles(tests) {
  return testFiles(tests).filter((f) => !CLIENTS.has(f) && readFileSync(join(tests, f), 'utf8').includes('/helpers/server.js'));
}

/** Whether a compiled test file has hooks at its top level, outside any describe(). */
const hasTopLevelHooks = (source) => /^(before|after|beforeEach|afterEach)\(/m.test(source);

/** The groups: per folder, files with top-level hooks alone, the others `GROUP_SIZE` at a time. */
export function testGroups(tests) {
  const byFolder = new Map();
  for (const file of apiTestFiles(tests)) {
    const folder = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
    if (!byFolder.has(folder)) byFolder.set(folder, []);
    byFolder.get(folder).push(file);
  }
  const groups = [];
  for (const [folder, files] of byFolder) {
    const alone = files.filter((f) => hasTopLevelHooks(readFileSync(join(tests, f), 'utf8')));
    const grouped = files.filter((f) => !alone.includes(f));
    const sets = alone.map((f) => [f]);
    for (let i = 0; i < grouped.length; i += GROUP_SIZE) sets.push(grouped.slice(i, i + GROUP_SIZE));
    sets.forEach((g, i) => groups.push({ path: `${folder ? folder + '/' : ''}group-${i + 1}.test.js`, files: g }));
  }
  return groups;
}

function entry(tests, database, path, files) {
  const at = dirname(join(tests, ENTRIES[database], path));
  const rel = (f) => slash(relative(at, join(tests, f)));
  const sources = files.map((f) => `test/${f.replace(/\.js$/, '.ts')}`).join(', ');
  const imports = files.map((f) => `  await import('${rel(f)}');`).join('\n');
  if (database === 'sqlite') {
    return `// Written by scripts/test-groups.mjs: ${sources}.\n${imports.replace(/^ {2}/gm, '')}\n`;
  }
  return `// Written by scripts/test-groups.mjs: on PostgreSQL, ${sources}.
import { test } from 'node:test';
import { skipWithoutPostgres } from '${rel('helpers/requirements.js')}';

if (skipWithoutPostgres) {
  test('${files.join(', ')} on PostgreSQL', { skip: skipWithoutPostgres }, () => {});
} else {
  // Set before the files are loaded: helpers/server.js reads it once.
  process.env.SWITCHBOARD_TEST_STORE = 'postgres';
${imports}
}
`;
}

/** Writes the entries afresh under `tests`/on-sqlite and `tests`/on-postgres. */
export function writeTestGroups(tests) {
  const groups = testGroups(tests);
  for (const [database, folder] of Object.entries(ENTRIES)) {
    rmSync(join(tests, folder), { recursive: true, force: true });
    for (const { path, files } of groups) {
      const full = join(tests, folder, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, entry(tests, database, path, files));
    }
  }
}

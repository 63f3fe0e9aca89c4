// Test files run a few to a process. Loading the modules a file tests (the server's, a store's)
// is most of a small file's cost; the suite (scripts/run-tests.mjs) runs the files a few to a
// process instead, through entries written here after `tsc` (by copy-assets.mjs):
//   dist/test/on-sqlite/<folder>/group-N.test.js    API test files as they are (SQLite)
//   dist/test/on-postgres/<folder>/group-N.test.js  the same files once more with
//     SWITCHBOARD_TEST_STORE=postgres, each server in a fresh schema of the test database
//   dist/test/grouped/<folder>/group-N.test.js      the other test files, once
// An API test file is one that starts its servers through test/helpers/server.ts. An entry runs
// up to GROUP_SIZE files of one folder, one after the other. A file with hooks outside any
// describe() (which would apply to its neighbours) gets an entry of its own; a few files run
// alone, as they are (CLIENTS, ALONE). Checked by test/test-groups.test.ts.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** The folders of the API files' entries inside the compiled test folder, by database. */
export const ENTRIES = { sqlite: 'on-sqlite', postgres: 'on-postgres' };
/** The folder of the other files' entries. */
export const OTHER_ENTRIES = 'grouped';
const ENTRY_FOLDERS = [...Object.values(ENTRIES), OTHER_ENTRIES];
/** Most test files one entry runs. */
const GROUP_SIZE = 8;
/**
 * Files not grouped: clients of the server that never touch its storage themselves (the
 * dashboard in a browser, the command line, the examples). They run alone, on SQLite only:
 * what they call is the API, whose own files run on both databases.
 */
const CLIENTS = new Set(['dashboard/browser.test.js', 'dashboard/streams-browser.test.js', 'cli/cli.test.js', 'cli/streams-cli.test.js', 'cli/tasks.test.js', 'examples.test.js']);
/**
 * Other files run alone: each starts, kills and restarts server processes for half a minute or
 * more, so its own process costs it little, and in a group it would hold up its neighbours.
 */
const ALONE = new Set(['engine/crash.test.js', 'engine/multi-node.test.js', 'operations/background-task-crash.test.js', 'sources/queue-source-crash.test.js']);

const slash = (f) => f.split(sep).join('/');

/** Every compiled test file under `tests` (dist/test) but the entries, relative to it, with `/` separators. */
export function testFiles(tests) {
  const entries = ENTRY_FOLDERS.map((e) => `${e}/`);
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

/** The other files that run in groups: neither API files nor files that run alone. */
export function otherGroupedFiles(tests) {
  const api = new Set(apiTestFiles(tests));
  return testFiles(tests).filter((f) => !api.has(f) && !CLIENTS.has(f) && !ALONE.has(f));
}

/** `files` in groups: per folder, files with top-level hooks alone, the others `GROUP_SIZE` at a time. */
function inGroups(tests, files) {
  const byFolder = new Map();
  for (const file of files) {
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

/** The groups of the API files. */
export function testGroups(tests) {
  return inGroups(tests, apiTestFiles(tests));
}

/** What the suite runs: the files that run alone, and every entry, as paths under `tests`. */
export function suiteFiles(tests) {
  const grouped = new Set([...apiTestFiles(tests), ...otherGroupedFiles(tests)]);
  const alone = testFiles(tests).filter((f) => !grouped.has(f));
  // testFiles() leaves the entries out of a listing of `tests`; listed from their own folder, they are all there.
  const entries = ENTRY_FOLDERS.flatMap((folder) => testFiles(join(tests, folder)).map((f) => `${folder}/${f}`));
  return [...alone, ...entries].sort();
}

/** The entry of `files` at `path` under `folder`; on PostgreSQL (`database`) or as they are. */
function entry(tests, folder, database, path, files) {
  const at = dirname(join(tests, folder, path));
  const rel = (f) => slash(relative(at, join(tests, f)));
  const sources = files.map((f) => `test/${f.replace(/\.js$/, '.ts')}`).join(', ');
  const imports = files.map((f) => `  await import('${rel(f)}');`).join('\n');
  if (database !== 'postgres') {
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

/** Writes the entries afresh under `tests`/on-sqlite, `tests`/on-postgres and `tests`/grouped. */
export function writeTestGroups(tests) {
  const write = (folder, database, groups) => {
    rmSync(join(tests, folder), { recursive: true, force: true });
    for (const { path, files } of groups) {
      const full = join(tests, folder, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, entry(tests, folder, database, path, files));
    }
  };
  const api = testGroups(tests);
  for (const [database, folder] of Object.entries(ENTRIES)) write(folder, database, api);
  write(OTHER_ENTRIES, null, inGroups(tests, otherGroupedFiles(tests)));
}

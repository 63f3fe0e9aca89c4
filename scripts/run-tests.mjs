// The whole suite: Node's test runner over the compiled tests (dist/test), four processes at a
// time, with the test files run through their group entries (the API files once on each
// database; scripts/test-groups.mjs) instead of one process each. Arguments are passed to the
// runner.
//
// The runner's TAP output passes through as it comes. A failure deep in a long run is easy to
// miss, so when tests fail, the failing ones (with the first lines of their errors) are listed
// again just before the runner's closing summary, which stays the last thing printed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { suiteFiles } from './test-groups.mjs';

const TESTS = 'dist/test';
const run = suiteFiles(TESTS).map((f) => join(TESTS, f));

const child = spawn(process.execPath, ['--test', '--test-concurrency=4', ...process.argv.slice(2), ...run], {
  stdio: ['inherit', 'pipe', 'inherit'],
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

const SUMMARY = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;
const ERROR_LINES = 12;
const failures = [];
const summary = [];
let failure = null; // the failing test whose YAML block is being read
const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
lines.on('line', (line) => {
  process.stdout.write(`${line}\n`);
  if (SUMMARY.test(line)) summary.push(line);
  else if (summary.length > 0 && line.trim() !== '') summary.length = 0; // a nested runner's summary, not the last
  if (/^\s*not ok \d+ - /.test(line)) {
    failure = { title: line.trim(), detail: [] };
    failures.push(failure);
  } else if (failure) {
    if (/^\s*\.\.\.\s*$/.test(line) || /^\s*(ok|not ok) \d+/.test(line)) failure = null;
    else if (failure.detail.length < ERROR_LINES && !/^\s*(---|duration_ms:|type:)/.test(line)) failure.detail.push(line.trim());
  }
});

const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
const drained = new Promise((resolve) => lines.on('close', resolve));
const code = await exited;
await drained;
if (failures.length > 0) {
  const out = ['# Failing tests, as reported above:'];
  for (const { title, detail } of failures) out.push(`#   ${title}`, ...detail.map((d) => `#       ${d}`));
  out.push(...summary);
  process.stdout.write(`${out.join('\n')}\n`);
}
process.exit(code);

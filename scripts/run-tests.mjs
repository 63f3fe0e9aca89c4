// The whole suite: Node's test runner over the compiled tests (dist/test), four processes at a
// time, with the test files run through their group entries (the API files once on each
// database; scripts/test-groups.mjs) instead of one process each. Arguments are passed to the
// runner.
//
// The runner's TAP output passes through as it comes. A failure or a skip deep in a long run is
// easy to miss, so the failing tests (with the first lines of their errors) and the skipped
// ones (by reason, which says how to enable them) are listed again just before the runner's
// closing summary, which stays the last thing printed (scripts/test-report.mjs).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createTestReport } from './test-report.mjs';
import { suiteFiles } from './test-groups.mjs';

const TESTS = 'dist/test';
const run = suiteFiles(TESTS).map((f) => join(TESTS, f));

const child = spawn(process.execPath, ['--test', '--test-concurrency=4', ...process.argv.slice(2), ...run], {
  stdio: ['inherit', 'pipe', 'inherit'],
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

const report = createTestReport();
const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
lines.on('line', (line) => {
  process.stdout.write(`${line}\n`);
  report.line(line);
});

const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
const drained = new Promise((resolve) => lines.on('close', resolve));
const code = await exited;
await drained;
const recap = report.recap();
if (recap.length > 0) process.stdout.write(`${recap.join('\n')}\n`);
process.exit(code);

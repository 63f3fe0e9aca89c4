/**
 * After the runner's long TAP output, the suite repeats its failures and its skips, grouped by
 * reason, then the closing summary (scripts/test-report.mjs, used by scripts/run-tests.mjs).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { createTestReport } = (await import(join(root, 'scripts/test-report.mjs'))) as {
  createTestReport: () => { line(l: string): void; recap(): string[] };
};

const PG = 'PostgreSQL is not reachable at postgres://postgres@127.0.0.1:1/test (ECONNREFUSED): start it, or set SWITCHBOARD_TEST_DATABASE_URL, to run this suite';
const SUMMARY = ['# tests 9', '# suites 3', '# pass 6', '# fail 1', '# cancelled 0', '# skipped 2', '# todo 0', '# duration_ms 1234.5'];

function recapOf(tap: string[]): string[] {
  const r = createTestReport();
  for (const l of tap) r.line(l);
  return r.recap();
}

describe('the suite report', () => {
  it('lists skipped tests and suites by reason, with the reason that says how to enable them, before the summary', () => {
    const out = recapOf([
      'TAP version 13',
      'ok 1 - push/group-1 on PostgreSQL # SKIP ' + PG,
      '    ok 3 - a real read-only PostgreSQL session # SKIP ' + PG,
      '    ok 5 - the image builds and answers its health route # SKIP no container engine here',
      'ok 2 - plain test',
      'ok 3 - skipped without a reason # SKIP',
      ...SUMMARY.map((l) => l.replace('# fail 1', '# fail 0')),
    ]);
    assert.deepEqual(out.slice(0, 7), [
      '# Skipped tests and suites, by reason:',
      `#   2 × ${PG}`,
      '#       push/group-1 on PostgreSQL',
      '#       a real read-only PostgreSQL session',
      '#   1 × no container engine here',
      '#       the image builds and answers its health route',
      '#   1 × (no reason given)',
    ]);
    assert.deepEqual(out.slice(-SUMMARY.length), SUMMARY.map((l) => l.replace('# fail 1', '# fail 0')), 'the summary stays last');
  });

  it('lists failures first, with the first lines of their errors', () => {
    const out = recapOf([
      'not ok 1 - sends a webhook',
      '  ---',
      '  duration_ms: 12',
      "  error: 'expected 200, got 500'",
      '  ...',
      'ok 2 - another # SKIP ' + PG,
      ...SUMMARY,
    ]);
    assert.deepEqual(out.slice(0, 4), ['# Failing tests, as reported above:', '#   not ok 1 - sends a webhook', "#       error: 'expected 200, got 500'", '# Skipped tests and suites, by reason:']);
    assert.deepEqual(out.slice(-SUMMARY.length), SUMMARY);
  });

  it('names at most five tests per reason and counts the rest', () => {
    const out = recapOf([...Array.from({ length: 8 }, (_, i) => `ok ${i + 1} - suite ${i + 1} on PostgreSQL # SKIP ${PG}`), ...SUMMARY]);
    assert.equal(out[1], `#   8 × ${PG}`);
    assert.deepEqual(out.slice(2, 8), ['#       suite 1 on PostgreSQL', '#       suite 2 on PostgreSQL', '#       suite 3 on PostgreSQL', '#       suite 4 on PostgreSQL', '#       suite 5 on PostgreSQL', '#       and 3 more']);
  });

  it('adds nothing when every test ran and passed', () => {
    assert.deepEqual(recapOf(['ok 1 - a', 'ok 2 - b', ...SUMMARY.map((l) => l.replace('# fail 1', '# fail 0'))]), []);
  });
});

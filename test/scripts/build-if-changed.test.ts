/**
 * `npm start` and `npm test` build only when an input of the build changed
 * (scripts/build-if-changed.mjs): a source edit must rebuild, while what the project writes
 * itself (benchmark results) must not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { fingerprint } = (await import(join(root, 'scripts/build-if-changed.mjs'))) as { fingerprint: (root: string) => string };

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-build-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the build fingerprint', () => {
  it('changes when a source, a test, a benchmark or package.json changes', () => {
    const dir = tree({ 'src/a.ts': 'a', 'test/a.test.ts': 't', 'bench/run.ts': 'b', 'package.json': '{}' });
    try {
      let last = fingerprint(dir);
      for (const file of ['src/a.ts', 'test/a.test.ts', 'bench/run.ts', 'package.json', 'src/new.ts']) {
        writeFileSync(join(dir, file), 'changed, and longer');
        const now = fingerprint(dir);
        assert.notEqual(now, last, `${file} changed, the fingerprint did not`);
        last = now;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not change when a benchmark run writes its results', () => {
    const dir = tree({ 'src/a.ts': 'a', 'bench/run.ts': 'b', 'bench/results/e2e.json': '{}' });
    try {
      const before = fingerprint(dir);
      writeFileSync(join(dir, 'bench/results/e2e.json'), '{"deliveries": 1}');
      writeFileSync(join(dir, 'bench/results/summary.md'), '# results');
      mkdirSync(join(dir, 'bench/results/tmp/prof'), { recursive: true });
      writeFileSync(join(dir, 'bench/results/tmp/prof/x.cpuprofile'), '{}');
      assert.equal(fingerprint(dir), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

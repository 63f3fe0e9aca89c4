/**
 * SWITCHBOARD_HEAP_GROWTH_PERCENT: `serve` hands V8 its `--heap-growing-percent` flag, which
 * V8 reads after every full collection. `setFlagsFromString` ignores a flag V8 does not know,
 * so the test also asks this Node.js's V8 whether it knows the flag: a release that dropped
 * it would otherwise turn the setting into a silent no-op. (Its effect is measured in the
 * backlog benchmark: docs/performance.md, "Memory in backlog".)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HEAP_GROWTH_FLAG, limitHeapGrowth } from '../../src/platform/heap-growth.js';

describe('heap growth limit', () => {
  it('sets the flag with the percentage, rounded', () => {
    const set: string[] = [];
    limitHeapGrowth(50, (f) => set.push(f));
    limitHeapGrowth(12.6, (f) => set.push(f));
    assert.deepEqual(set, [`${HEAP_GROWTH_FLAG}=50`, `${HEAP_GROWTH_FLAG}=13`]);
  });

  it('leaves V8 alone at 0', () => {
    const set: string[] = [];
    limitHeapGrowth(0, (f) => set.push(f));
    assert.deepEqual(set, []);
  });

  it("is a flag this Node.js's V8 knows", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--v8-options'], { maxBuffer: 16 * 1024 * 1024 });
    assert.ok(stdout.includes(`${HEAP_GROWTH_FLAG} `), `${HEAP_GROWTH_FLAG} is not among V8's options`);
  });
});

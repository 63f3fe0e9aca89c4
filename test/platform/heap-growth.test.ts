/**
 * SWITCHBOARD_HEAP_GROWTH_PERCENT: set at run time, the growth factor makes V8 collect sooner.
 * The same allocation pattern (a live set plus objects that live long enough to be promoted,
 * then die) runs in two fresh processes, one left to V8 and one limited as the server limits
 * itself; the limited one's old generation is collected several times as often. `setFlagsFromString` ignores a flag V8 does not know, so this
 * also fails if a Node.js release drops the flag.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const moduleUrl = new URL('../../src/platform/heap-growth.js', import.meta.url).href;

const script = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
const { limitHeapGrowth } = await import(${JSON.stringify(moduleUrl)});
limitHeapGrowth(Number(process.argv[1]));
let collections = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) collections++;
});
observer.observe({ entryTypes: ['gc'] });
const live = [];
for (let i = 0; i < 200_000; i++) live.push({ i, s: 'x'.repeat(50) + i });
const ring = new Array(50_000);
for (let i = 0; i < 3_000_000; i++) {
  ring[i % ring.length] = { i, s: 'y' + i, a: [i, i + 1] };
  if (i % 100_000 === 0) await new Promise((r) => setImmediate(r));
}
await new Promise((r) => setTimeout(r, 50));
observer.disconnect();
process.stdout.write(String(collections + live.length * 0));
`;

/** Full (mark-compact) collections while the same garbage is made. */
async function fullCollections(percent: number): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, String(percent)], { cwd: fileURLToPath(new URL('.', import.meta.url)) });
  return Number(stdout);
}

describe('heap growth limit', () => {
  it('a heap limited to 50 % growth is collected sooner than one left to V8', async () => {
    const free = await fullCollections(0);
    const limited = await fullCollections(50);
    assert.ok(limited >= 2 * free && limited >= free + 3, `full collections: ${limited} limited, ${free} left to V8`);
  });
});

/**
 * Prints the top self-time functions and sources of a `.cpuprofile`:
 *   node dist/bench/profile.js bench/results/tmp/prof/<label>/<file>.cpuprofile [top] [skip-first-ms]
 * Profiles are written by `BENCH_CPU_PROF=1 npm run bench -- <scenario>`.
 */
import { summarizeProfile } from './lib/profile.js';
import { REPO_ROOT } from './lib/proc.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/profile.js <file.cpuprofile> [top] [skip-first-ms]');
  process.exit(2);
}
const s = summarizeProfile(file, REPO_ROOT, Number(process.argv[3] ?? 25), Number(process.argv[4] ?? 0));
console.log(`${s.file}: ${s.totalMs} ms sampled (first ${s.skippedMs} ms skipped), ${s.idleMs} ms idle`);
console.log('\nby function (self time, % of non-idle):');
for (const f of s.functions) {
  console.log(`${f.pct.toFixed(1).padStart(6)} %  ${String(f.selfMs).padStart(9)} ms  ${f.function}  ${f.location}`);
  for (const c of f.callers ?? []) console.log(`${''.padStart(28)}${c.pct.toFixed(1).padStart(5)} % via ${c.caller}`);
}
console.log('\nby source:');
for (const f of s.sources) console.log(`${f.pct.toFixed(1).padStart(6)} %  ${String(f.selfMs).padStart(9)} ms  ${f.function}`);

/**
 * Switchboard benchmark suite.
 *
 *   npm run bench                 every scenario
 *   npm run bench -- e2e backlog  the named ones
 *   npm run bench -- --list       names and titles
 *   npm run bench -- sinks --quick  stream sinks with 200 events a run (a smoke run)
 *   npm run bench -- --summary    rewrite summary.md from the JSON results present
 *
 * Environment: BENCH_SCALE (multiplies durations and the backlog size, default 1; 0.2 for a
 * quick smoke run), BENCH_CPU_PROF=1 (run the server under --cpu-prof; results with profile
 * summaries go to bench/results/tmp/profiled/, raw profiles to bench/results/tmp/prof/, and
 * the published results and summary are left alone), BENCH_QUIET_WAIT_S (before each
 * scenario, wait up to this long for the machine to be idle; default 60, 0 = don't wait).
 *
 * Each scenario starts its own server(s) and receiver as child processes; this process is
 * the load generator. Results: bench/results/<scenario>.json and bench/results/summary.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ctx, type Scenario } from './lib/scenario.js';
import { installCleanupHandlers, REPO_ROOT, sleep, stopAll, TMP_DIR } from './lib/proc.js';
import { readSystemTicks } from './lib/monitor.js';
import { machineInfo, printTable, writeResult, writeSummary, type ScenarioResult } from './lib/report.js';
import { publish } from './scenarios/publish.js';
import { e2e } from './scenarios/e2e.js';
import { fanout } from './scenarios/fanout.js';
import { isolation } from './scenarios/isolation.js';
import { fairness } from './scenarios/fairness.js';
import { backlog } from './scenarios/backlog.js';
import { retryStorm } from './scenarios/retry-storm.js';
import { floor } from './scenarios/floor.js';
import { pull } from './scenarios/pull.js';
import { ingest } from './scenarios/ingest.js';
import { transform } from './scenarios/transform.js';
import { postgres } from './scenarios/postgres.js';
import { readers } from './scenarios/readers.js';
import { ordered } from './scenarios/ordered.js';
import { sinks } from './scenarios/sinks.js';

export const SCENARIOS: Scenario[] = [floor, publish, e2e, fanout, isolation, fairness, backlog, retryStorm, pull, readers, ingest, transform, postgres, ordered, sinks];

/** Above this much CPU used by other processes in a window, results are flagged as disturbed. */
const QUIET_OTHER_CPU_PCT = 25;

/** No scenario may run longer than this (its processes are killed). */
const SCENARIO_TIMEOUT_MS = 240_000;

/**
 * Waits, at most `maxMs`, until the machine has been nearly idle (< 15 % of one core busy)
 * for 3 s in a row, so other work on a shared machine disturbs the numbers less.
 */
async function waitQuiet(maxMs: number): Promise<void> {
  if (maxMs <= 0) return;
  const deadline = Date.now() + maxMs;
  let quietFor = 0;
  let said = false;
  while (Date.now() < deadline) {
    const a = readSystemTicks();
    await sleep(1000);
    const b = readSystemTicks();
    if (!a || !b) return;
    const busyPct = b.busy - a.busy; // ticks in 1 s at 100 Hz = % of one core
    quietFor = busyPct < 15 ? quietFor + 1 : 0;
    if (quietFor >= 3) return;
    if (!said) {
      process.stderr.write(`waiting (at most ${Math.round(maxMs / 1000)} s) for the machine to be quiet: ${busyPct} % busy\n`);
      said = true;
    }
  }
  process.stderr.write('the machine did not get quiet; running anyway (results will be flagged)\n');
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function runOne(s: Scenario, scale: number, cpuProf: boolean): Promise<ScenarioResult> {
  const startedAt = new Date();
  const base = {
    scenario: s.name,
    title: s.title,
    machine: machineInfo(),
    startedAt: startedAt.toISOString(),
  };
  if (s.skip) {
    console.log(`\n== ${s.name}: skipped (${s.skip})`);
    return { ...base, status: 'skipped', reason: s.skip, durationSec: 0, method: [], config: {}, tables: [], notes: [], headline: {}, detail: null };
  }
  console.log(`\n== ${s.name}: ${s.title}`);
  const ctx = new Ctx(s.name, scale, cpuProf);
  try {
    const out = await withTimeout(s.run(ctx), SCENARIO_TIMEOUT_MS * Math.max(1, scale), s.name);
    await ctx.cleanup();
    const durationSec = Math.round((Date.now() - startedAt.getTime()) / 1000);
    const headline = { ...out.headline, peakServerRssMB: ctx.peakServerRssMB || null, maxOtherCpuPct: ctx.maxOtherCpuPct };
    if (ctx.maxOtherCpuPct > QUIET_OTHER_CPU_PCT) {
      out.notes.push(
        `Other processes on the machine used up to ${ctx.maxOtherCpuPct} % CPU during a measured window (threshold ${QUIET_OTHER_CPU_PCT} %): these numbers are disturbed; run again on a quiet machine.`,
      );
    }
    const profiles = Object.keys(ctx.profiles).length ? ctx.profiles : undefined;
    return { ...base, status: 'ok', durationSec, ...out, config: { ...out.config, scale }, headline, profiles };
  } catch (err) {
    const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`[${s.name}] failed: ${msg}`);
    await ctx.cleanup().catch(() => undefined);
    const durationSec = Math.round((Date.now() - startedAt.getTime()) / 1000);
    return {
      ...base,
      status: 'failed',
      reason: (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'error',
      durationSec,
      method: [],
      config: { scale },
      tables: [],
      notes: [msg.slice(0, 4000)],
      headline: { peakServerRssMB: ctx.peakServerRssMB || null },
      detail: null,
    };
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--list') || args.includes('-h') || args.includes('--help')) {
    console.log('usage: npm run bench [-- <scenario> ...]   (--summary: only rewrite bench/results/summary.md)\n');
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(12)} ${s.title}${s.skip ? ` [skipped: ${s.skip}]` : ''}`);
    return 0;
  }
  if (args.includes('--summary')) {
    console.log(`summary: ${writeSummary(SCENARIOS)}`);
    return 0;
  }
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'main.js'))) {
    console.error('dist/src/main.js not found: run `npm run build` first (npm run bench does).');
    return 2;
  }
  const scale = Number(process.env['BENCH_SCALE'] ?? '1');
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) {
    console.error('BENCH_SCALE must be a number in (0, 10]');
    return 2;
  }
  const cpuProf = process.env['BENCH_CPU_PROF'] === '1';
  installCleanupHandlers();
  const m = machineInfo();
  console.log(`Switchboard bench: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB, node ${m.node}, scale ${scale}${cpuProf ? ', cpu-prof' : ''}`);
  const quietMs = Number(process.env['BENCH_QUIET_WAIT_S'] ?? '60') * 1000;
  let failed = 0;
  for (const s of selected) {
    if (!s.skip) await waitQuiet(quietMs);
    const r = await runOne(s, scale, cpuProf);
    for (const t of r.tables) printTable(t);
    for (const n of r.notes) console.log(`  note: ${n.split('\n')[0] ?? ''}`);
    if (r.profiles) {
      for (const [label, p] of Object.entries(r.profiles)) {
        console.log(`\n  server profile ${label} (${p.totalMs} ms sampled after the first ${p.skippedMs} ms, ${p.idleMs} ms idle), top self time:`);
        for (const f of p.functions.slice(0, 12)) {
          console.log(`    ${f.pct.toFixed(1).padStart(5)} %  ${f.function}  ${f.location}`);
          for (const c of f.callers?.slice(0, 3) ?? []) console.log(`             ${c.pct.toFixed(1).padStart(5)} % via ${c.caller}`);
        }
      }
    }
    // Profiled runs are slower: keep them out of the published results.
    console.log(`  -> ${writeResult(r, cpuProf ? join(TMP_DIR, 'profiled') : undefined)}`);
    if (r.status === 'failed') failed++;
  }
  if (!cpuProf) console.log(`\nsummary: ${writeSummary(SCENARIOS)}`);
  await stopAll();
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  },
);

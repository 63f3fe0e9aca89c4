/** Result files: bench/results/<scenario>.json and bench/results/summary.md. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ProfileSummary } from './profile.js';
import { REPO_ROOT, RESULTS_DIR } from './proc.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGB: number;
  node: string;
  platform: string;
  date: string;
  commit: string | null;
}

export function machineInfo(): MachineInfo {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    commit = null;
  }
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${release()}`,
    date: new Date().toISOString(),
    commit,
  };
}

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Table {
  title: string;
  columns: { key: string; header: string }[];
  rows: Row[];
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  machine: MachineInfo;
  startedAt: string;
  durationSec: number;
  /** How load was generated, what was measured, for how long. */
  method: string[];
  config: Record<string, unknown>;
  tables: Table[];
  notes: string[];
  /** Figures compared against the targets (see TARGETS). */
  headline: Record<string, number | null>;
  /** With BENCH_CPU_PROF=1: server CPU profile summary per server started (by label). */
  profiles?: Record<string, ProfileSummary> | undefined;
  /** Full per-phase data (receiver and load generator stats). */
  detail: unknown;
}

export function fmt(v: Cell): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return '—';
    if (Number.isInteger(v) && Math.abs(v) >= 10_000) return v.toLocaleString('en-US');
    if (!Number.isInteger(v)) return String(Math.round(v * 100) / 100);
    return String(v);
  }
  return v;
}

export function printTable(t: Table): void {
  const header = t.columns.map((c) => c.header);
  const rows = t.rows.map((r) => t.columns.map((c) => fmt(r[c.key] ?? null)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(`\n${t.title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

export function markdownTable(t: Table): string {
  const head = `| ${t.columns.map((c) => c.header).join(' | ')} |`;
  const sep = `| ${t.columns.map(() => '---').join(' | ')} |`;
  const body = t.rows.map((r) => `| ${t.columns.map((c) => fmt(r[c.key] ?? null).replace(/\|/g, '\\|')).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

export function writeResult(r: ScenarioResult, dir = RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${r.scenario}.json`);
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
  return path;
}

function readResult(name: string): ScenarioResult | null {
  const path = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ScenarioResult;
  } catch {
    return null;
  }
}

interface Target {
  what: string;
  target: string;
  scenario: string;
  value: (all: Map<string, ScenarioResult>) => number | null;
  /** Absent: a figure reported without a target. */
  met?: (v: number) => boolean;
  unit: string;
  format?: (v: number) => string;
}

const headline = (scenario: string, key: string) => (all: Map<string, ScenarioResult>) => all.get(scenario)?.headline[key] ?? null;

/** One headline figure of the postgres scenario over another, to two decimals. */
function ratio(all: Map<string, ScenarioResult>, over: string, under: string): number | null {
  const h = all.get('postgres')?.headline;
  const a = h?.[over];
  const b = h?.[under];
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null;
}

export const TARGETS: Target[] = [
  { what: 'Publish, durability=full (best of N clients)', target: '≥ 12,000 msg/s', scenario: 'publish', value: headline('publish', 'publishPerSecFull'), met: (v) => v >= 12_000, unit: 'msg/s' },
  { what: 'Sustained end-to-end deliveries, durable state', target: '≥ 6,000 /s', scenario: 'e2e', value: headline('e2e', 'sustainedDeliveriesPerSec'), met: (v) => v >= 6000, unit: '/s' },
  { what: 'Server CPU per delivery at that rate (all threads)', target: '≤ 150 µs', scenario: 'e2e', value: headline('e2e', 'cpuPerDeliveryUsMax'), met: (v) => v <= 150, unit: 'µs' },
  { what: 'Publish-to-arrival p99 at 1,000 msg/s', target: '≤ 10 ms', scenario: 'e2e', value: headline('e2e', 'p99At1000Ms'), met: (v) => v <= 10, unit: 'ms' },
  { what: 'Fairness: healthy application p99 beside 60 hung endpoints of another', target: '≤ 250 ms', scenario: 'fairness', value: headline('fairness', 'healthyP99Ms'), met: (v) => v <= 250, unit: 'ms' },
  { what: 'Readers: publish p99 at 500 msg/s with 200 SSE + 50 long polls open', target: '≤ 50 ms', scenario: 'readers', value: headline('readers', 'publishP99Ms'), met: (v) => v <= 50, unit: 'ms' },
  {
    what: 'Readers: every reader received every message',
    target: 'yes',
    scenario: 'readers',
    value: headline('readers', 'everyReaderGotEveryMessage'),
    met: (v) => v === 1,
    unit: '',
    format: (v) => (v === 1 ? 'yes' : 'no'),
  },
  { what: 'Ordered delivery, 100 keys, 10 % of first attempts failing', target: '≥ 2,000 /s', scenario: 'ordered', value: headline('ordered', 'hundredKeysPerSec'), met: (v) => v >= 2000, unit: '/s' },
  { what: 'Ordered delivery: per-key order violations', target: '0', scenario: 'ordered', value: headline('ordered', 'hundredKeysViolations'), met: (v) => v === 0, unit: '' },
  {
    what: 'Server resident memory under load (peak over all scenarios)',
    target: '≤ 250 MB',
    scenario: '*',
    value: (all) => {
      const peaks = [...all.values()].map((r) => r.headline['peakServerRssMB']).filter((v): v is number => typeof v === 'number');
      return peaks.length ? Math.max(...peaks) : null;
    },
    met: (v) => v <= 250,
    unit: 'MB',
  },
  {
    what: 'Isolation: healthy p99 beside a never-answering and a 2 s endpoint, vs baseline (issue: must not move; held = ≤ 1.5×)',
    target: '≈ 1×',
    scenario: 'isolation',
    value: headline('isolation', 'p99Ratio'),
    met: (v) => v <= 1.5,
    unit: '×',
  },
  {
    what: 'Backlog: per-endpoint throttleRate respected (no 1 s window above limit × 1.1)',
    target: 'yes',
    scenario: 'backlog',
    value: headline('backlog', 'throttleRespected'),
    met: (v) => v === 1,
    unit: '',
    format: (v) => (v === 1 ? 'yes' : 'no'),
  },
  { what: 'Pull: publish 202 to consumer p99 at 500 msg/s (worst of long poll, SSE message stream, SSE consumer stream)', target: '≤ 10 ms', scenario: 'pull', value: headline('pull', 'p99Ms'), met: (v) => v <= 10, unit: 'ms' },
  { what: 'Ingest acknowledgement p99 (verified Stripe / Standard Webhooks, fixed rates up to 1,000/s)', target: '≤ 10 ms', scenario: 'ingest', value: headline('ingest', 'p99Ms'), met: (v) => v <= 10, unit: 'ms' },
  { what: '10,000 idle SSE connections, server RSS', target: '≤ 300 MB', scenario: 'pull', value: headline('pull', 'sseRssMB'), met: (v) => v <= 300, unit: 'MB' },
  { what: 'Idle SSE connection, server memory each (RSS growth / streams)', target: '≤ 30 KB', scenario: 'pull', value: headline('pull', 'sseKBPerConnection'), met: (v) => v <= 30, unit: 'KB' },
  {
    what: 'Content filter + transformation on every endpoint: deliveries/s at maximum rate, slower than without',
    target: '≤ 25 %',
    scenario: 'transform',
    value: headline('transform', 'slowdownPct'),
    met: (v) => v <= 25,
    unit: '%',
  },
  {
    what: 'PostgreSQL, 1 and 2 nodes: every accepted message delivered, none twice',
    target: 'yes',
    scenario: 'postgres',
    value: headline('postgres', 'lostOrDuplicated'),
    met: (v) => v === 0,
    unit: '',
    format: (v) => (v === 0 ? 'yes' : `no (${v} lost, duplicated or unverified)`),
  },
  { what: 'PostgreSQL, 1 node: sustained deliveries/s', target: '≥ 3,000 /s', scenario: 'postgres', value: headline('postgres', 'deliveriesPerSec1Node'), met: (v) => v >= 3000, unit: '/s' },
  { what: 'PostgreSQL, 1 node: CPU per delivery (node + database sessions)', target: '≤ 400 µs', scenario: 'postgres', value: headline('postgres', 'cpuPerDeliveryUs1Node'), met: (v) => v <= 400, unit: 'µs' },
  {
    what: 'PostgreSQL, 2 nodes: sustained deliveries/s, vs 1 node',
    target: '≥ 1×',
    scenario: 'postgres',
    value: (all) => ratio(all, 'deliveriesPerSec2Node', 'deliveriesPerSec1Node'),
    met: (v) => v >= 1,
    unit: '×',
  },
  {
    what: 'PostgreSQL, 2 nodes: CPU per delivery, vs 1 node',
    target: '≤ 1.15×',
    scenario: 'postgres',
    value: (all) => ratio(all, 'cpuPerDeliveryUs2Node', 'cpuPerDeliveryUs1Node'),
    met: (v) => v <= 1.15,
    unit: '×',
  },
  { what: 'PostgreSQL, 3 nodes with kill -9 every 10 s: acknowledged messages lost', target: '0', scenario: 'postgres', value: headline('postgres', 'killRunLost'), met: (v) => v === 0, unit: '' },
];

/** Rewrites summary.md from every `<scenario>.json` present, in registry order. */
export function writeSummary(order: { name: string; title: string }[]): string {
  const all = new Map<string, ScenarioResult>();
  for (const s of order) {
    const r = readResult(s.name);
    if (r) all.set(s.name, r);
  }
  const latest = [...all.values()].filter((r) => r.status !== 'skipped').sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  const m = latest?.machine ?? machineInfo();
  const out: string[] = [];
  out.push('# Switchboard benchmark summary', '');
  out.push('Generated by `npm run bench` (see [docs/performance.md](../../docs/performance.md) for how each number is measured).', '');
  out.push(`- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGB} GB RAM, ${m.platform}`);
  out.push(`- Node ${m.node}; commit ${m.commit ?? '(uncommitted)'}; latest scenario run ${m.date}`);
  out.push('- Server, receiver and load generator (and, in some scenarios, pull clients, a second server and PostgreSQL) run as separate processes on the same machine (they share its cores).', '');
  const disturbed = [...all.values()].filter((r) => (r.headline['maxOtherCpuPct'] ?? 0) > 25).map((r) => r.scenario);
  if (disturbed.length) {
    out.push(
      `> **Disturbed run.** Other processes used more than 25 % of a core during measured windows of: ${disturbed.join(', ')}. ` +
        'Those numbers understate the server; re-run `npm run bench` on a quiet machine. ' +
        'docs/performance.md lists the best measurements taken with little interference.',
      '',
    );
  }
  out.push('## Targets', '');
  const targetRows: Row[] = TARGETS.map((t) => {
    const r = t.scenario === '*' ? undefined : all.get(t.scenario);
    const v = t.value(all);
    const scenarios = r ? [r] : [...all.values()];
    const disturbed = scenarios.some((x) => (x.headline['maxOtherCpuPct'] ?? 0) > 25);
    let status: string;
    if (r?.status === 'skipped') status = `skipped: ${r.reason ?? ''}`;
    else if (r?.status === 'failed') status = `run failed: ${r.reason ?? ''}`;
    else if (v === null) status = 'not measured';
    else if (!t.met) status = 'measured';
    else status = t.met(v) ? 'met' : '**missed**';
    // A disturbed run says little about the server: say so instead of met/missed.
    if (disturbed && v !== null) status = t.met ? `not valid (disturbed run; would be ${t.met(v) ? 'met' : 'missed'})` : 'not valid (disturbed run)';
    const measured = v === null ? null : t.format ? t.format(v) : `${fmt(v)}${t.unit === '×' ? '' : ' '}${t.unit}`.trim();
    return { what: t.what, target: t.target, measured, status };
  });
  out.push(
    markdownTable({
      title: 'Targets',
      columns: [
        { key: 'what', header: 'What' },
        { key: 'target', header: 'Target' },
        { key: 'measured', header: 'Measured' },
        { key: 'status', header: 'Status' },
      ],
      rows: targetRows,
    }),
    '',
  );
  for (const s of order) {
    const r = all.get(s.name);
    out.push(`## ${s.name}: ${s.title}`, '');
    if (!r) {
      out.push('_Not run yet._', '');
      continue;
    }
    if (r.status !== 'ok') {
      out.push(`_${r.status}: ${r.reason ?? ''}_`, '');
      if (r.status === 'skipped') continue;
    }
    const scale = typeof r.config['scale'] === 'number' && r.config['scale'] !== 1 ? ` with BENCH_SCALE=${r.config['scale']} (shortened: not comparable)` : '';
    out.push(`Run ${r.startedAt}, ${r.durationSec} s${scale}.`, '');
    for (const t of r.tables) out.push(`**${t.title}**`, '', markdownTable(t), '');
    if (r.notes.length) out.push(...r.notes.map((n) => `- ${n}`), '');
    out.push('<details><summary>Method</summary>', '', ...r.method.map((l) => `- ${l}`), '', '</details>', '');
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, 'summary.md');
  writeFileSync(path, out.join('\n'));
  return path;
}

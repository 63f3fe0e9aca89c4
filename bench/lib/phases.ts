/**
 * One measured phase of publish (or ingest) load whose messages arrive at the receiver:
 * load, wait for the expected arrivals (bounded), then one table row with the publisher's
 * and the receiver's figures. Used by the ingest, transform and postgres scenarios.
 */
import type { LoadResult } from '../loadgen.js';
import type { LatencySummary } from './hist.js';
import type { Monitor, WindowStats } from './monitor.js';
import type { Receiver } from './proc.js';
import type { CountStats } from './protocol.js';
import type { Row } from './report.js';
import { arrivalsIn, errorsText, perSec } from './scenario.js';

export interface DeliveryPhaseOptions {
  /** First column of the row ("500/s", "max (32 clients)"). */
  label: string;
  /** Receiver phase tag: the load must put it in measured payloads (warm-up ones carry another). */
  phase: string;
  /** Receiver group the deliveries arrive in. */
  group: string;
  receiver: Receiver;
  monitor: Monitor;
  load: () => Promise<LoadResult>;
  /**
   * `fixed`: open loop whose warm-up messages are tagged apart; the messages expected are the
   * measured ones. `max`: closed loop, every message tagged with the phase; all are expected,
   * and the drain rate after the load ends is reported.
   */
  mode: 'fixed' | 'max';
  drainTimeoutMs: number;
  /** Deliveries per accepted message (default 1). */
  perMessage?: number;
}

export interface DeliveryPhaseResult {
  row: Row;
  load: LoadResult;
  window: WindowStats;
  receiver: CountStats | undefined;
  latency: LatencySummary | null;
  expected: number;
  drained: boolean;
  drainMs: number;
  /** First arrivals inside the load's measured window / window. */
  deliveriesPerSec: number;
  /** `max` mode: arrivals after the load ended / time until the last one. */
  drainPerSec: number | null;
}

/** CPU % of every process the monitor tracks, keyed `cpu_<name>`; servers summed as `serverCpu`, their peak RSS as `rss`. */
export function windowColumns(w: WindowStats): Row {
  const row: Row = {};
  let serverCpu: number | null = null;
  let rss: number | null = null;
  for (const [name, p] of Object.entries(w.procs)) {
    row[`cpu_${name}`] = p.cpuPct;
    if (/^server\d*$/.test(name)) {
      serverCpu = (serverCpu ?? 0) + (p.cpuPct ?? 0);
      if (p.rssMaxMB !== null) rss = Math.max(rss ?? 0, p.rssMaxMB);
    }
  }
  row['serverCpu'] = serverCpu;
  row['rss'] = rss;
  row['otherCpu'] = w.system?.otherPct ?? null;
  return row;
}

export async function deliveryPhase(o: DeliveryPhaseOptions): Promise<DeliveryPhaseResult> {
  await o.receiver.reset(o.phase);
  o.monitor.beginWindow();
  const r = await o.load();
  const w = o.monitor.endWindow();
  const expected = (o.mode === 'fixed' ? r.okMeasured : r.okTotal) * (o.perMessage ?? 1);
  const t0 = performance.now();
  const { ok } = await o.receiver.waitFor((s) => (s.groups[o.group]?.unique ?? 0) >= expected, o.drainTimeoutMs, o.mode === 'max' ? 250 : 100);
  const drainMs = performance.now() - t0;
  const full = await o.receiver.stats(true);
  const g = full.groups[o.group];
  const deliveriesPerSec = perSec(arrivalsIn(g?.timeline, full.phaseStart, r.windowStart, r.windowEnd), r.windowMs);
  let drainPerSec: number | null = null;
  if (o.mode === 'max' && g?.lastAt && g.lastAt > r.windowEnd) {
    drainPerSec = perSec(arrivalsIn(g.timeline, full.phaseStart, r.windowEnd, g.lastAt + 100), g.lastAt - r.windowEnd);
  }
  if (g) delete g.timeline;
  const latency = g?.latency && g.latency.count > 0 ? g.latency : null;
  const arrived = g?.unique ?? 0;
  const row: Row = {
    label: o.label,
    published: r.acceptedPerSec,
    publishP50: r.latency.p50,
    publishP99: r.latency.p99,
    expected,
    arrived,
    p50: latency?.p50 ?? null,
    p90: latency?.p90 ?? null,
    p99: latency?.p99 ?? null,
    max: latency?.max ?? null,
    deliveries: deliveriesPerSec,
    drainRate: drainPerSec,
    dup: g?.duplicates ?? 0,
    badSig: g?.verifyFailed ?? 0,
    errors: errorsText(r.errors),
    drained: ok ? `${Math.round(drainMs)} ms` : `no: ${expected - arrived} missing after ${Math.round(drainMs)} ms`,
    ...windowColumns(w),
  };
  return { row, load: r, window: w, receiver: g, latency, expected, drained: ok, drainMs, deliveriesPerSec, drainPerSec };
}

/** The columns of a delivery phase row; `first` names the label column, `extra` go before the CPU columns. */
export function deliveryColumns(first: string, extra: [string, string][] = [], cpu: [string, string][] = [['serverCpu', 'server CPU %'], ['cpu_receiver', 'receiver CPU %'], ['cpu_loadgen', 'loadgen CPU %']]): [string, string][] {
  return [
    ['label', first],
    ['published', 'published/s'],
    ['publishP50', 'publish p50'],
    ['publishP99', 'publish p99'],
    ['expected', 'expected'],
    ['arrived', 'arrived'],
    ['p50', 'p50'],
    ['p90', 'p90'],
    ['p99', 'p99'],
    ['max', 'max'],
    ['deliveries', 'deliveries/s'],
    ['drainRate', 'drain/s after'],
    ['dup', 'dup'],
    ['badSig', 'bad sig'],
    ['errors', 'errors'],
    ['drained', 'all arrived'],
    ...extra,
    ...cpu,
    ['rss', 'server RSS MB'],
    ['otherCpu', 'other CPU %'],
  ];
}

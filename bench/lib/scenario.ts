/** What a scenario gets to work with, and helpers shared by scenarios. */
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { Monitor } from './monitor.js';
import { findProfile, Puller, Receiver, REPO_ROOT, startServer, type ServerHandle, type ServerOptions } from './proc.js';
import { wallMs } from './hist.js';
import { TIMELINE_BUCKET_MS } from './protocol.js';
import type { Row, Table } from './report.js';

export interface ScenarioOutput {
  method: string[];
  config: Record<string, unknown>;
  tables: Table[];
  notes: string[];
  headline: Record<string, number | null>;
  detail: unknown;
}

export interface Scenario {
  name: string;
  title: string;
  /** When set, the scenario is not run and is reported as skipped with this reason. */
  skip?: string;
  run(ctx: Ctx): Promise<ScenarioOutput>;
}

/** Monitor name of the i-th server of a scenario: "server", "server2", ... */
export function serverName(i: number): string {
  return i === 0 ? 'server' : `server${i + 1}`;
}

/** Per-scenario context: starts processes, tracks them for cleanup, scales durations. */
export class Ctx {
  private readonly servers: ServerHandle[] = [];
  private receiverHandle: Receiver | null = null;
  private readonly pullers: Puller[] = [];
  private serverCount = 0;
  readonly profiles: Record<string, ProfileSummary> = {};
  /** Highest server RSS seen by any monitor of this scenario. */
  peakServerRssMB = 0;
  /** Highest CPU % used by processes outside the benchmark during any measured window. */
  maxOtherCpuPct = 0;

  constructor(
    readonly name: string,
    /** Multiplies every duration (BENCH_SCALE, default 1). */
    readonly scale: number,
    readonly cpuProf: boolean,
  ) {}

  /** A duration in ms, scaled. */
  d(ms: number): number {
    return Math.max(200, Math.round(ms * this.scale));
  }

  log(msg: string): void {
    process.stderr.write(`[${this.name}] ${msg}\n`);
  }

  async server(opts: Omit<ServerOptions, 'label' | 'cpuProf'> = {}): Promise<ServerHandle> {
    const label = `${this.name}-${++this.serverCount}`;
    const s = await startServer({ ...opts, label, cpuProf: this.cpuProf });
    this.servers.push(s);
    this.log(`server ${label} pid ${s.pid} on ${s.baseUrl} (durability=${opts.durability ?? 'full'}${opts.retrySchedule ? `, retry ${opts.retrySchedule}` : ''})`);
    return s;
  }

  async stopServer(s: ServerHandle): Promise<void> {
    await s.stop();
    const i = this.servers.indexOf(s);
    if (i >= 0) this.servers.splice(i, 1);
    if (s.profDir) {
      const file = findProfile(s.profDir);
      if (file) {
        const label = s.logPath.replace(/^.*\//, '').replace(/\.server\.log$/, '');
        // Leave out start-up (module loading, schema compilation) and the first requests' JIT warm-up.
        this.profiles[label] = summarizeProfile(file, REPO_ROOT, 20, s.readyAfterMs + 1000);
        this.log(`profile ${file}`);
      } else {
        this.log(`no profile written in ${s.profDir} (does the server exit cleanly on SIGTERM?)`);
      }
    }
  }

  async receiver(): Promise<Receiver> {
    if (!this.receiverHandle) this.receiverHandle = await Receiver.start();
    return this.receiverHandle;
  }

  /** A new pull client process (stopped at cleanup). */
  async puller(): Promise<Puller> {
    const p = await Puller.start();
    this.pullers.push(p);
    return p;
  }

  /**
   * Samples the server(s) (named "server", "server2", ...), this process ("loadgen"), the
   * receiver and any `extra` processes (several may share a name: their CPU adds up). What
   * is not tracked counts as other work on the machine.
   */
  monitor(server: ServerHandle | ServerHandle[], receiver: Receiver | null, extra: { name: string; pid: number }[] = []): Monitor {
    const servers = Array.isArray(server) ? server : [server];
    const procs = servers.map((s, i) => ({ name: serverName(i), pid: s.pid }));
    procs.push({ name: 'loadgen', pid: process.pid });
    if (receiver) procs.push({ name: 'receiver', pid: receiver.pid });
    procs.push(...extra);
    return new Monitor(procs).start();
  }

  /**
   * Records a monitor's peak server RSS (every server it samples) and interference into the
   * scenario's headline. `rss: false` leaves the RSS out (a measurement with its own target).
   */
  notePeak(m: Monitor, opts: { rss?: boolean } = {}): void {
    if (opts.rss !== false) {
      for (const name of m.names().filter((n) => /^server\d*$/.test(n))) this.peakServerRssMB = Math.max(this.peakServerRssMB, m.peakMB(name) ?? 0);
    }
    this.maxOtherCpuPct = Math.max(this.maxOtherCpuPct, m.maxOtherPct);
  }

  async cleanup(): Promise<void> {
    for (const s of [...this.servers]) await this.stopServer(s);
    if (this.receiverHandle) await this.receiverHandle.stop();
    this.receiverHandle = null;
    for (const p of this.pullers.splice(0)) await p.stop();
  }
}

/**
 * A message body for `POST /api/v1/app/{app}/msg`: about 400 bytes of JSON, carrying the
 * publisher's wall clock (`sentAt`, ms with µs resolution), a sequence number and the phase tag.
 */
export function messageBody(eventType: string, phase: string, seq: number): string {
  return JSON.stringify({
    eventType,
    payload: {
      phase,
      seq,
      sentAt: wallMs(),
      data: {
        id: `inv_${seq.toString(36).padStart(8, '0')}`,
        object: 'invoice',
        customer: 'cus_9s6XKzkNRiz8i3',
        amount_due: 4200 + (seq % 1000),
        currency: 'eur',
        status: 'paid',
        lines: [
          { id: 'il_1', description: 'Pro plan (monthly)', amount: 3900, quantity: 1 },
          { id: 'il_2', description: 'Extra seats', amount: 300 + (seq % 1000), quantity: 3 },
        ],
        metadata: { order: `ord_${seq}`, region: 'eu-west' },
      },
    },
  });
}

/** First arrivals inside the wall-clock window [from, to) according to a 100 ms timeline. */
export function arrivalsIn(timeline: number[] | undefined, phaseStart: number, from: number, to: number): number {
  if (!timeline) return 0;
  const a = Math.max(0, Math.floor((from - phaseStart) / TIMELINE_BUCKET_MS));
  const b = Math.max(a, Math.floor((to - phaseStart) / TIMELINE_BUCKET_MS));
  let n = 0;
  for (let i = a; i < b && i < timeline.length; i++) n += timeline[i] ?? 0;
  return n;
}

/**
 * Highest number of first arrivals in any sliding window of `windowMs` (multiple of 100 ms),
 * and where that window starts (ms after the phase start).
 */
export function maxWindow(timeline: number[] | undefined, windowMs = 1000): { count: number; startMs: number } {
  if (!timeline || timeline.length === 0) return { count: 0, startMs: 0 };
  const w = Math.max(1, Math.round(windowMs / TIMELINE_BUCKET_MS));
  let sum = 0;
  let best = 0;
  let bestEnd = 0;
  for (let i = 0; i < timeline.length; i++) {
    sum += timeline[i] ?? 0;
    if (i >= w) sum -= timeline[i - w] ?? 0;
    if (sum > best) {
      best = sum;
      bestEnd = i;
    }
  }
  return { count: best, startMs: Math.max(0, bestEnd - w + 1) * TIMELINE_BUCKET_MS };
}

export function perSec(count: number, ms: number): number {
  return ms > 0 ? Math.round((count / ms) * 1000) : 0;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function errorsText(errors: Record<string, number>): string {
  const e = Object.entries(errors);
  return e.length === 0 ? '0' : e.map(([k, v]) => `${k}×${v}`).join(' ');
}

export function table(title: string, columns: [string, string][], rows: Row[]): Table {
  return { title, columns: columns.map(([key, header]) => ({ key, header })), rows };
}

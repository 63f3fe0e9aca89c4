/**
 * Samples resident memory (VmRSS from /proc/<pid>/status) and CPU time (utime+stime from
 * /proc/<pid>/stat) of the benchmark's processes. Linux only; elsewhere values are null.
 */
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ); 100 on every mainstream Linux build. */
const CLK_TCK = 100;

export function readRssMB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) used so far. */
export function readCpuSec(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is rest[0]; utime is field 14, stime field 15.
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return (utime + stime) / CLK_TCK;
  } catch {
    return null;
  }
}

export interface ProcWindow {
  /** Average CPU over the window, in % of one core (200 % = both cores of this machine). */
  cpuPct: number | null;
  rssMaxMB: number | null;
  rssEndMB: number | null;
}

export interface SystemWindow {
  /** Whole machine, % of one core (200 % = both cores busy). */
  busyPct: number;
  /** Machine busy time not used by the benchmark's processes (other work on the machine). */
  otherPct: number;
  iowaitPct: number;
  stealPct: number;
}

export interface WindowStats {
  durationMs: number;
  procs: Record<string, ProcWindow>;
  system: SystemWindow | null;
}

interface SysTicks {
  busy: number;
  iowait: number;
  steal: number;
}

/** Machine-wide CPU ticks from the first line of /proc/stat. */
export function readSystemTicks(): SysTicks | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    return { busy: user + nice + system + irq + softirq, iowait, steal };
  } catch {
    return null;
  }
}

interface Tracked {
  name: string;
  pid: number;
  peakMB: number;
  windowPeakMB: number;
  cpuAtStart: number | null;
}

/** Samples every `intervalMs`; measure a phase between beginWindow() and endWindow(). */
export class Monitor {
  private readonly tracked: Tracked[];
  private timer: NodeJS.Timeout | null = null;
  private windowStart = 0;
  private sysAtStart: SysTicks | null = null;
  /** Highest "other processes" CPU % of any window so far (interference from the rest of the machine). */
  maxOtherPct = 0;

  constructor(
    procs: { name: string; pid: number }[],
    private readonly intervalMs = 250,
  ) {
    this.tracked = procs.map((p) => ({ ...p, peakMB: 0, windowPeakMB: 0, cpuAtStart: null }));
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    for (const t of this.tracked) {
      const rss = readRssMB(t.pid);
      if (rss === null) continue;
      t.peakMB = Math.max(t.peakMB, rss);
      t.windowPeakMB = Math.max(t.windowPeakMB, rss);
    }
  }

  beginWindow(): void {
    this.windowStart = performance.now();
    this.sysAtStart = readSystemTicks();
    for (const t of this.tracked) {
      t.windowPeakMB = 0;
      t.cpuAtStart = readCpuSec(t.pid);
    }
    this.sample();
  }

  endWindow(): WindowStats {
    this.sample();
    const durationMs = performance.now() - this.windowStart;
    const procs: Record<string, ProcWindow> = {};
    for (const t of this.tracked) {
      const cpuNow = readCpuSec(t.pid);
      const cpuPct = cpuNow !== null && t.cpuAtStart !== null ? ((cpuNow - t.cpuAtStart) / (durationMs / 1000)) * 100 : null;
      const rssEnd = readRssMB(t.pid);
      const w: ProcWindow = {
        cpuPct: cpuPct === null ? null : Math.round(cpuPct),
        rssMaxMB: t.windowPeakMB > 0 ? round1(t.windowPeakMB) : null,
        rssEndMB: rssEnd === null ? null : round1(rssEnd),
      };
      const same = procs[t.name];
      // Several processes under one name (database backends, pull clients): CPU adds up; RSS is
      // not summed (shared memory would be counted again), so it is left out.
      procs[t.name] = same ? { cpuPct: (same.cpuPct ?? 0) + (w.cpuPct ?? 0), rssMaxMB: null, rssEndMB: null } : w;
    }
    let system: SystemWindow | null = null;
    const sysNow = readSystemTicks();
    if (sysNow && this.sysAtStart) {
      const pct = (ticks: number): number => Math.round((ticks / CLK_TCK / (durationMs / 1000)) * 100);
      const busyPct = pct(sysNow.busy - this.sysAtStart.busy);
      const ours = Object.values(procs).reduce((a, p) => a + (p.cpuPct ?? 0), 0);
      system = {
        busyPct,
        otherPct: Math.max(0, busyPct - ours),
        iowaitPct: pct(sysNow.iowait - this.sysAtStart.iowait),
        stealPct: pct(sysNow.steal - this.sysAtStart.steal),
      };
      this.maxOtherPct = Math.max(this.maxOtherPct, system.otherPct);
    }
    return { durationMs: Math.round(durationMs), procs, system };
  }

  /** The names processes are tracked under. */
  names(): string[] {
    return [...new Set(this.tracked.map((t) => t.name))];
  }

  /** Highest RSS seen for a process since start(). */
  peakMB(name: string): number | null {
    const t = this.tracked.find((x) => x.name === name);
    return t && t.peakMB > 0 ? round1(t.peakMB) : null;
  }
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

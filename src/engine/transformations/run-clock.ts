/**
 * How long a transformation has run. The limit is meant for the code, not for the machine:
 * on a busy machine a thread waits for a core, and a wall-clock limit would fail quick code
 * that merely was not scheduled (and then retry it, adding load). So a run is charged the
 * CPU time of its thread where the platform tells it (Linux: `/proc/thread-self/schedstat`,
 * nanoseconds, read in about 3 µs), with wall time as the bound when the machine gives
 * nothing better and as an outer bound (`WALL_FACTOR` times the limit) in any case.
 */
import { closeSync, openSync, readSync, readlinkSync } from 'node:fs';

/** However starved the thread is, a run ends after this many times its limit in wall time. */
export const WALL_FACTOR = 10;

export interface RunClock {
  /** Monotonic wall time, ms. */
  wallMs(): number;
  /** CPU time of the calling thread, ms; null where the platform does not tell it. */
  cpuMs(): number | null;
}

/** Where the calling thread's CPU time can be read by any thread of the process, or null. */
export function threadCpuPath(): string | null {
  try {
    return `/proc/${readlinkSync('/proc/thread-self')}/schedstat`;
  } catch {
    return null;
  }
}

/**
 * A thread's clock: by default the calling thread's (open it on the thread that runs
 * transformations), or another thread's, given its `threadCpuPath()`.
 */
export class ThreadClock implements RunClock {
  private fd: number | null;
  private readonly buf = Buffer.alloc(64);

  constructor(path: string | null = '/proc/thread-self/schedstat') {
    try {
      this.fd = path === null ? null : openSync(path, 'r');
    } catch {
      this.fd = null;
    }
  }

  wallMs(): number {
    return performance.now();
  }

  cpuMs(): number | null {
    if (this.fd === null) return null;
    try {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      const text = this.buf.toString('latin1', 0, n);
      const ns = Number(text.slice(0, text.indexOf(' ')));
      return Number.isFinite(ns) ? ns / 1e6 : null;
    } catch {
      return null;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The budget of one run: `limitMs` of CPU (or of wall time without a CPU clock), within
 * `WALL_FACTOR × limitMs` of wall time. `spent()` is cheap until the wall clock passes the
 * limit; only then is the CPU clock read, and the run goes on while its CPU time is under
 * the limit.
 */
export class RunBudget {
  private readonly wallEnd: number;
  private checkAt: number;
  private readonly cpuStart: number | null;
  private over = false;

  constructor(
    private readonly clock: RunClock,
    private readonly limitMs: number,
  ) {
    const now = clock.wallMs();
    this.wallEnd = now + limitMs * WALL_FACTOR;
    this.checkAt = now + limitMs;
    this.cpuStart = clock.cpuMs();
  }

  /** True once the run has used its budget (and from then on). */
  spent(): boolean {
    if (this.over) return true;
    const now = this.clock.wallMs();
    if (now <= this.checkAt) return false;
    const cpu = now >= this.wallEnd || this.cpuStart === null ? null : this.clock.cpuMs();
    const left = cpu === null ? 0 : this.limitMs - (cpu - this.cpuStart!);
    if (left <= 0) {
      this.over = true;
      return true;
    }
    // CPU left: look again once that much wall time has passed (the least it can take).
    this.checkAt = Math.min(now + left, this.wallEnd);
    return false;
  }

  /** Whether `spent()` has said so: an interruption was the time limit's doing. */
  get exhausted(): boolean {
    return this.over;
  }
}

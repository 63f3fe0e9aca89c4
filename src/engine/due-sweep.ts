/**
 * Finds endpoints with due deliveries: at the earliest retry time this node knows of, when
 * woken (another node's notice, a manual trigger), and every few seconds as a safety net
 * for writers this node does not hear about.
 *
 * After each sweep it waits for the next time something falls due that is not due yet
 * (`nextDueAt` after now): deliveries already due but held back (behind a cap, a rate limit,
 * an open circuit, the head of their ordering key) would otherwise make the next time look
 * past, and a retry due later would wait for the safety net.
 *
 * Two clocks: the node's clock says when retries fall due; the rest between sweeps is a budget
 * of work, measured and waited on real monotonic time (`restClock`). A rest counted on the
 * node's clock would never end while that clock stands still (a test's injected clock between
 * its steps), and a wall clock set back would stretch it.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../domain/clock.js';
import { monotonicClock } from '../platform/monotonic-clock.js';
import type { Store } from '../storage/contract/store.js';

export interface DueSweepOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The safety-net interval, in ms. */
  intervalMs: number;
  /** Called for each endpoint found with due deliveries. */
  onDue: (endpointId: string) => void;
  /** Endpoints read from the store at a time (10,000 by default). */
  pageSize?: number;
  /** Real monotonic time, on which a sweep's length is measured and the rest after it waited (`monotonicClock` by default). */
  restClock?: Clock;
}

/**
 * A sweep waits this many times the last one's length after it ended: sweeps take at most a
 * fifth of the time. A sweep reads every endpoint with due deliveries, and those held behind
 * open circuits or caps come back each time: with tens of thousands of them and retries
 * falling due many times a second, back-to-back sweeps would hold the thread that runs them.
 * The length is the shorter of what the node's clock and the monotonic clock measured, so
 * that a test's injected clock, standing still while the store answers, asks for no rest.
 * The rest never exceeds the safety-net interval.
 */
const REST_FACTOR = 4;

export class DueSweep {
  private wakeTimer: TimerHandle | null = null;
  private wakeAt = Infinity;
  /** No sweep starts before this time of the rest clock (see REST_FACTOR). */
  private restUntil = -Infinity;
  /** The sweep that waits for the rest to end, if any. */
  private restTimer: TimerHandle | null = null;
  private intervalTimer: TimerHandle | null = null;
  private sweeping = false;
  /** A sweep was asked for while one ran: it runs again once that one ends. */
  private rerun = false;
  private stopped = false;

  constructor(private readonly o: DueSweepOptions) {}

  /** Sweeps in `ms` of the node's clock (and once the last sweep's rest is over), unless a sweep is already due sooner. */
  schedule(ms: number): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const at = now + Math.max(0, ms);
    if (this.wakeTimer && at >= this.wakeAt) return;
    this.wakeTimer?.cancel();
    this.wakeAt = at;
    this.wakeTimer = this.o.clock.setTimer(at - now, () => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.afterRest();
    });
  }

  /** Cancels every timer; a sweep running finishes without arming another. */
  stop(): void {
    this.stopped = true;
    this.wakeTimer?.cancel();
    this.restTimer?.cancel();
    this.intervalTimer?.cancel();
  }

  /** Sweeps now, or once the rest after the last sweep is over. */
  private afterRest(): void {
    if (this.restTimer) return; // a sweep already waits for the rest to end
    const left = this.restUntil - this.restClock.now();
    if (left <= 0) {
      void this.sweep();
      return;
    }
    this.restTimer = this.restClock.setTimer(left, () => {
      this.restTimer = null;
      void this.sweep();
    });
  }

  private async sweep(): Promise<void> {
    if (this.stopped) return;
    if (this.sweeping) {
      // The sweep running may have read the store before what woke this one was written.
      this.rerun = true;
      return;
    }
    this.sweeping = true;
    const now = this.o.clock.now();
    const startedAt = this.restClock.now();
    let next: number | null = null;
    try {
      // Every page: endpoints whose due deliveries wait (open circuits, caps) come back at
      // every sweep, and must not hide an endpoint whose retry just fell due.
      const pageSize = this.o.pageSize ?? 10_000;
      for (let after: string | undefined; ; ) {
        const due = await this.o.store.dueEndpoints(now, pageSize, after);
        for (const id of due) this.o.onDue(id);
        if (due.length < pageSize) break;
        after = due[due.length - 1];
      }
      next = await this.o.store.nextDueAt(now);
    } catch (e: unknown) {
      this.o.logger.error({ err: e }, 'sweep for due deliveries failed');
    } finally {
      this.rest(Math.min(this.o.clock.now() - now, this.restClock.now() - startedAt));
      // Time moved while the store answered: compare with the clock as it is now.
      if (next !== null) this.schedule(Math.max(0, next - this.o.clock.now()));
      this.sweeping = false;
      if (this.rerun) {
        this.rerun = false;
        this.schedule(0);
      }
      // The safety net: other writers (manual triggers, other nodes) are seen within this interval.
      this.intervalTimer?.cancel();
      if (!this.stopped) this.intervalTimer = this.o.clock.setTimer(this.o.intervalMs, () => void this.sweep());
    }
  }

  /** The next sweep waits REST_FACTOR times as long as the one just ended took (`tookMs`), at most the safety-net interval. */
  private rest(tookMs: number): void {
    this.restUntil = this.restClock.now() + Math.min(REST_FACTOR * Math.max(0, tookMs), this.o.intervalMs);
  }

  private get restClock(): Clock {
    return this.o.restClock ?? monotonicClock;
  }
}

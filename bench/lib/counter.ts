/**
 * Arrival counting shared by the receiver and the pull client: first arrivals per message,
 * duplicates, stale (other phase) copies, publish-to-arrival latency and a 100 ms timeline.
 */
import { LatencyHistogram } from './hist.js';
import { TIMELINE_BUCKET_MS, type CountStats } from './protocol.js';

/** Timeline covers at most this long a phase (10 min of 100 ms buckets). */
const MAX_BUCKETS = 6000;

export class Counter {
  requests = 0;
  unique = 0;
  duplicates = 0;
  verifyFailed = 0;
  stale = 0;
  firstAt: number | null = null;
  lastAt: number | null = null;
  readonly latency = new LatencyHistogram();
  timeline: number[] = [];

  resetPhase(): void {
    this.requests = 0;
    this.unique = 0;
    this.duplicates = 0;
    this.verifyFailed = 0;
    this.stale = 0;
    this.firstAt = null;
    this.lastAt = null;
    this.latency.reset();
    this.timeline = [];
  }

  arrival(now: number, sentAt: number | undefined, phaseStart: number): void {
    this.unique++;
    if (this.firstAt === null) this.firstAt = now;
    this.lastAt = now;
    if (sentAt !== undefined) this.latency.recordMs(now - sentAt);
    const b = Math.floor((now - phaseStart) / TIMELINE_BUCKET_MS);
    if (b >= 0 && b < MAX_BUCKETS) {
      while (this.timeline.length <= b) this.timeline.push(0);
      this.timeline[b] = (this.timeline[b] ?? 0) + 1;
    }
  }

  snapshot(withTimeline: boolean, light: boolean): CountStats {
    const s: CountStats = {
      requests: this.requests,
      unique: this.unique,
      duplicates: this.duplicates,
      verifyFailed: this.verifyFailed,
      stale: this.stale,
      // Percentiles scan the whole histogram (~20k buckets): not for frequent polling.
      latency: light ? null : this.latency.summary(),
      firstAt: this.firstAt,
      lastAt: this.lastAt,
    };
    if (withTimeline) s.timeline = [...this.timeline];
    return s;
  }
}

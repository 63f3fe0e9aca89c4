/**
 * Latency histograms (HdrHistogram, 3 significant digits). Values are recorded in
 * microseconds and reported in milliseconds.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** Ten minutes in microseconds: anything slower is clamped (and still counted). */
const HIGHEST_US = 600_000_000;

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatencyHistogram {
  private readonly h: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency given in milliseconds (fractions allowed). Negative values count as 0. */
  recordMs(ms: number): void {
    const us = Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000)));
    this.h.recordValue(us);
  }

  get count(): number {
    return this.h.totalCount;
  }

  reset(): void {
    this.h.reset();
  }

  summary(): LatencySummary {
    const n = this.h.totalCount;
    if (n === 0) return emptySummary();
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      count: n,
      mean: ms(this.h.mean),
      p50: ms(this.h.getValueAtPercentile(50)),
      p90: ms(this.h.getValueAtPercentile(90)),
      p99: ms(this.h.getValueAtPercentile(99)),
      p999: ms(this.h.getValueAtPercentile(99.9)),
      max: ms(this.h.maxValue),
    };
  }
}

export function emptySummary(): LatencySummary {
  return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
}

/** Wall-clock time in milliseconds with sub-millisecond resolution, comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

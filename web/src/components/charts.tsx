/** Hand-drawn SVG charts for the delivery overview; each has a text summary for screen readers. */
import type { StatsBucket } from '../types';

// A small drawing space: the SVG scales to its box, so text stays legible on narrow screens.
const W = 420;
const H = 170;
const PAD = { l: 40, r: 8, t: 10, b: 24 };
const plotW = W - PAD.l - PAD.r;
const plotH = H - PAD.t - PAD.b;

function timeLabel(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function Axes({ max, unit, series }: { max: number; unit: string; series: StatsBucket[] }) {
  const ticks = [0, max / 2, max];
  const labels = series.length > 0 ? [0, Math.floor((series.length - 1) / 2), series.length - 1] : [];
  return (
    <g className="axes" aria-hidden="true">
      {ticks.map((t) => {
        const y = PAD.t + plotH - (t / max) * plotH;
        return (
          <g key={t}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y} y2={y} className="grid" />
            <text x={PAD.l - 6} y={y + 4} textAnchor="end">
              {Number.isInteger(t) ? t : t.toFixed(1)}
              {unit}
            </text>
          </g>
        );
      })}
      {labels.map((i, k) => (
        <text key={i} x={k === 0 ? PAD.l : k === 2 ? W - PAD.r : PAD.l + ((i + 0.5) / series.length) * plotW} y={H - 6} textAnchor={k === 0 ? 'start' : k === 2 ? 'end' : 'middle'}>
          {timeLabel(series[i]!.start)}
        </text>
      ))}
    </g>
  );
}

/** Successful and failed attempts per bucket, stacked. */
export function DeliveryChart({ series, label }: { series: StatsBucket[]; label: string }) {
  const max = niceMax(Math.max(0, ...series.map((b) => b.success + b.failure)));
  const bw = plotW / Math.max(1, series.length);
  const ok = series.reduce((s, b) => s + b.success, 0);
  const bad = series.reduce((s, b) => s + b.failure, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${ok} succeeded, ${bad} failed`}>
        <Axes max={max} unit="" series={series} />
        {series.map((b, i) => {
          const x = PAD.l + i * bw + bw * 0.1;
          const hs = (b.success / max) * plotH;
          const hf = (b.failure / max) * plotH;
          const base = PAD.t + plotH;
          return (
            <g key={b.start}>
              <title>{`${new Date(b.start).toLocaleString()}: ${b.success} succeeded, ${b.failure} failed`}</title>
              <rect x={x} y={base - hs} width={bw * 0.8} height={hs} className="bar-ok" />
              <rect x={x} y={base - hs - hf} width={bw * 0.8} height={hf} className="bar-bad" />
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span className="key ok" /> succeeded <span className="key bad" /> failed
      </figcaption>
    </figure>
  );
}

/** Average and slowest response time per bucket. */
export function LatencyChart({ series, label }: { series: StatsBucket[]; label: string }) {
  const max = niceMax(Math.max(0, ...series.map((b) => b.maxDurationMs ?? 0)));
  const bw = plotW / Math.max(1, series.length);
  const path = (pick: (b: StatsBucket) => number | null) => {
    let d = '';
    let pen = false;
    series.forEach((b, i) => {
      const v = pick(b);
      if (v === null) {
        pen = false;
        return;
      }
      const x = PAD.l + (i + 0.5) * bw;
      const y = PAD.t + plotH - (v / max) * plotH;
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
      pen = true;
    });
    return d.trim();
  };
  const avgs = series.filter((b) => b.avgDurationMs !== null);
  const overall = avgs.length ? Math.round(avgs.reduce((s, b) => s + b.avgDurationMs!, 0) / avgs.length) : null;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${overall === null ? 'no attempts' : `about ${overall} ms on average`}`}>
        <Axes max={max} unit="ms" series={series} />
        <path d={path((b) => b.maxDurationMs)} className="line-max" />
        <path d={path((b) => b.avgDurationMs)} className="line-avg" />
        {series.map((b, i) =>
          b.avgDurationMs === null ? null : (
            <circle key={b.start} cx={PAD.l + (i + 0.5) * bw} cy={PAD.t + plotH - (b.avgDurationMs / max) * plotH} r={2.5} className="dot-avg">
              <title>{`${new Date(b.start).toLocaleString()}: average ${Math.round(b.avgDurationMs)} ms, slowest ${b.maxDurationMs ?? 0} ms`}</title>
            </circle>
          ),
        )}
      </svg>
      <figcaption>
        <span className="key avg" /> average <span className="key max" /> slowest
      </figcaption>
    </figure>
  );
}

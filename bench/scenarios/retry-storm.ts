import { table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import { HEALTHY_COLUMNS, healthyRun, type BadEndpoint } from './healthy.js';

const HEALTHY = 5;
const FAILING = 5;
const RATE = 100;
const RETRY_SCHEDULE = '1,2,5';

export const retryStorm: Scenario = {
  name: 'retry-storm',
  title: 'Retry storm: half the endpoints failing with 500 while healthy traffic flows',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(12_000);
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const base = await healthyRun(ctx, { variant: 'baseline', healthy: HEALTHY, bad: [], ratePerSec: RATE, warmupMs, durationMs, retrySchedule: RETRY_SCHEDULE });
    rows.push(base.row);
    detail.push(base.detail);
    const failing: BadEndpoint[] = Array.from({ length: FAILING }, (_, i) => ({ name: `failing-${i}`, group: 'failing', mode: { kind: 'fail', status: 500 } }));
    const storm = await healthyRun(ctx, { variant: 'storm', healthy: HEALTHY, bad: failing, ratePerSec: RATE, warmupMs, durationMs, retrySchedule: RETRY_SCHEDULE });
    rows.push(storm.row);
    detail.push(storm.detail);
    const b99 = typeof base.row['p99'] === 'number' ? base.row['p99'] : null;
    const x99 = typeof storm.row['p99'] === 'number' ? storm.row['p99'] : null;
    return {
      method: [
        `One application, every endpoint subscribed to every message: ${HEALTHY} healthy endpoints, and in the storm run also ${FAILING} that answer every request with 500. Retry schedule ${RETRY_SCHEDULE} s (SWITCHBOARD_RETRY_SCHEDULE), so every failing delivery is attempted 4 times within ~8 s. A fresh server per run, durability full.`,
        `Open-loop publishing at ${RATE} msg/s (${RATE * HEALTHY} healthy deliveries/s, ${RATE * FAILING} failing deliveries/s, up to ${RATE * FAILING * 4} failing attempts/s once retries overlap), ${warmupMs} ms warm-up then ${durationMs} ms measured.`,
        'Healthy latency = publish-to-arrival at the healthy endpoints (signatures verified). "misbehaving endpoints received" = requests the failing endpoints got during the run (first attempts and retries).',
      ],
      config: { healthy: HEALTHY, failing: FAILING, rate: RATE, retrySchedule: RETRY_SCHEDULE, warmupMs, durationMs },
      tables: [table('Healthy publish-to-arrival latency (ms), baseline vs retry storm', HEALTHY_COLUMNS, rows)],
      notes: [`Healthy p99: baseline ${b99 ?? '—'} ms, during the storm ${x99 ?? '—'} ms.`],
      headline: { healthyP99BaselineMs: b99, healthyP99StormMs: x99 },
      detail,
    };
  },
};

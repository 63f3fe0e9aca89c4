import { table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import { HEALTHY_COLUMNS, healthyRun } from './healthy.js';

const HEALTHY = 4;
const RATE = 200;

export const isolation: Scenario = {
  name: 'isolation',
  title: 'Isolation: healthy endpoints beside one that never answers and one that answers in 2 s',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(10_000);
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const base = await healthyRun(ctx, { variant: 'baseline', healthy: HEALTHY, bad: [], ratePerSec: RATE, warmupMs, durationMs });
    rows.push(base.row);
    detail.push(base.detail);
    const bad = await healthyRun(ctx, {
      variant: 'with-bad',
      healthy: HEALTHY,
      bad: [
        { name: 'never-answers', mode: { kind: 'hang' } },
        { name: 'answers-in-2s', mode: { kind: 'delay', ms: 2000 } },
      ],
      ratePerSec: RATE,
      warmupMs,
      durationMs,
    });
    rows.push(bad.row);
    detail.push(bad.detail);
    const b99 = typeof base.row['p99'] === 'number' ? base.row['p99'] : null;
    const x99 = typeof bad.row['p99'] === 'number' ? bad.row['p99'] : null;
    const ratio = b99 && x99 ? Math.round((x99 / b99) * 100) / 100 : null;
    return {
      method: [
        `One application, every endpoint subscribed to every message: ${HEALTHY} healthy endpoints (answer 200 at once), and in the second run also one that accepts the connection and never answers and one that answers 200 after 2 s. A fresh server for each run, durability full, default retry schedule.`,
        `Open-loop publishing at ${RATE} msg/s (${RATE * HEALTHY} healthy deliveries/s), ${warmupMs} ms warm-up then ${durationMs} ms measured; healthy latency = publish-to-arrival at the healthy endpoints (signatures verified), measured messages only.`,
        'The figure that matters: healthy p99 with the bad endpoints present vs the baseline run.',
      ],
      config: { healthy: HEALTHY, rate: RATE, warmupMs, durationMs },
      tables: [table('Healthy publish-to-arrival latency (ms), baseline vs beside bad endpoints', HEALTHY_COLUMNS, rows)],
      notes: [`Healthy p99 with bad endpoints / baseline p99 = ${ratio ?? '—'}.`],
      headline: { healthyP99BaselineMs: b99, healthyP99WithBadMs: x99, p99Ratio: ratio },
      detail,
    };
  },
};

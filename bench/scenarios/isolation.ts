import { table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import { HEALTHY_COLUMNS, healthyRun, type BadEndpoint } from './healthy.js';

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
    const badEndpoints: BadEndpoint[] = [
      { name: 'never-answers', mode: { kind: 'hang' } },
      { name: 'answers-in-2s', mode: { kind: 'delay', ms: 2000 } },
    ];
    // Same host:port as the healthy endpoints (as when many endpoints live on one receiving service) ...
    const bad = await healthyRun(ctx, { variant: 'with-bad', healthy: HEALTHY, bad: badEndpoints, ratePerSec: RATE, warmupMs, durationMs });
    rows.push(bad.row);
    detail.push(bad.detail);
    // ... and on another port (another origin), which separates connection pools.
    const other = await healthyRun(ctx, { variant: 'with-bad-other-port', healthy: HEALTHY, bad: badEndpoints, ratePerSec: RATE, warmupMs, durationMs, badOnOwnPort: true });
    rows.push(other.row);
    detail.push(other.detail);
    const o99 = typeof other.row['p99'] === 'number' ? other.row['p99'] : null;
    const b99 = typeof base.row['p99'] === 'number' ? base.row['p99'] : null;
    const x99 = typeof bad.row['p99'] === 'number' ? bad.row['p99'] : null;
    const ratio = b99 && x99 ? Math.round((x99 / b99) * 100) / 100 : null;
    return {
      method: [
        `One application, every endpoint subscribed to every message: ${HEALTHY} healthy endpoints (answer 200 at once), and in the other runs also one that accepts the connection and never answers and one that answers 200 after 2 s. A fresh server for each run, durability full, default retry schedule and timeouts.`,
        'Run "with-bad": the bad endpoints are on the same receiver host:port as the healthy ones (different paths), as when many endpoints live on one receiving service. Run "with-bad-other-port": the bad endpoints are on a second port of the receiver (another origin).',
        `Open-loop publishing at ${RATE} msg/s (${RATE * HEALTHY} healthy deliveries/s), ${warmupMs} ms warm-up then ${durationMs} ms measured; healthy latency = publish-to-arrival at the healthy endpoints (signatures verified), measured messages only.`,
        'The figure that matters: healthy p99 with the bad endpoints present vs the baseline run.',
      ],
      config: { healthy: HEALTHY, rate: RATE, warmupMs, durationMs },
      tables: [table('Healthy publish-to-arrival latency (ms), baseline vs beside bad endpoints', HEALTHY_COLUMNS, rows)],
      notes: [
        `Healthy p99 with bad endpoints on the same port / baseline p99 = ${ratio ?? '—'}; on another port = ${b99 && o99 ? Math.round((o99 / b99) * 100) / 100 : '—'}.`,
      ],
      headline: { healthyP99BaselineMs: b99, healthyP99WithBadMs: x99, healthyP99WithBadOtherPortMs: o99, p99Ratio: ratio },
      detail,
    };
  },
};

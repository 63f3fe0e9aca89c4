/**
 * Fairness across applications: one application's 60 endpoints accept connections and never
 * answer, at full concurrency, while another application publishes 100 msg/s to a healthy
 * endpoint. Reports the healthy application's publish-to-arrival latency.
 */
import { Api, addEndpoints } from '../lib/api.js';
import { openLoop } from '../loadgen.js';
import { errorsText, messageBody, perSec, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';
import { sleep } from '../lib/proc.js';

const HUNG = 60;
const HEALTHY_RATE = 100;
/** Messages published to the hung application before measuring: each fans out to every hung endpoint. */
const FILL_MESSAGES = 30;
/** The hung application keeps publishing meanwhile (each message to all its endpoints), so its endpoints always have backlog. */
const HUNG_RATE = 1;

export const fairness: Scenario = {
  name: 'fairness',
  title: `Fairness: ${HUNG} never-answering endpoints in one application beside a healthy application at ${HEALTHY_RATE} msg/s`,
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(10_000);
    const receiver = await ctx.receiver();
    if (!receiver.port) await receiver.listen();
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, receiver);
    try {
      const hungApp = await api.createApp('bench-fairness-hung');
      const healthyApp = await api.createApp('bench-fairness-healthy');
      // The hung endpoints on their own port (another origin), as another customer's server.
      const hungPort = await receiver.listen(0);
      const hung = await addEndpoints(api, hungApp, hungPort, Array.from({ length: HUNG }, (_, i) => `/fairness/hung/${i}`));
      const healthy = await addEndpoints(api, healthyApp, receiver.port, ['/fairness/healthy/0']);
      const routes: Record<string, RouteConfig> = {};
      for (const ep of hung) routes[ep.path] = { mode: { kind: 'hang' }, secret: ep.secret, group: 'hung' };
      for (const ep of healthy) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group: 'healthy' };
      await receiver.configure(routes);
      const phase = 'fairness';
      await receiver.reset(phase);
      // Fill: every hung endpoint gets more deliveries than its concurrency cap.
      for (let i = 0; i < FILL_MESSAGES; i++) await api.publish(hungApp, 'invoice.paid', { fill: i });
      // Let the node open its connections to the hung endpoints.
      await receiver.waitFor((s) => (s.groups['hung']?.requests ?? 0) > 0, 5000, 100);
      await sleep(1000);
      const hungAtStart = (await receiver.stats()).groups['hung']?.requests ?? 0;
      mon.beginWindow();
      const [r] = await Promise.all([
        openLoop({
          baseUrl: server.baseUrl,
          headers: api.headers,
          warmupMs,
          durationMs,
          ratePerSec: HEALTHY_RATE,
          maxInFlight: 256,
          next: (seq, measured) => ({ path: `/api/v1/app/${healthyApp}/msg`, body: messageBody('invoice.paid', measured ? phase : `${phase}-warmup`, seq) }),
        }),
        openLoop({
          baseUrl: server.baseUrl,
          headers: api.headers,
          warmupMs: 0,
          durationMs: warmupMs + durationMs,
          ratePerSec: HUNG_RATE,
          maxInFlight: 64,
          next: (seq) => ({ path: `/api/v1/app/${hungApp}/msg`, body: messageBody('invoice.paid', `${phase}-hung`, seq) }),
        }),
      ]);
      const w = mon.endWindow();
      const expected = r.okMeasured;
      // Not scaled: on a node without fairness the healthy deliveries wait for the hung requests' timeout.
      const { ok } = await receiver.waitFor((s) => (s.groups['healthy']?.unique ?? 0) >= expected, 60_000, 100);
      const stats = await receiver.stats();
      const g = stats.groups['healthy'];
      const hg = stats.groups['hung'];
      const row: Row = {
        offered: HEALTHY_RATE,
        published: r.acceptedPerSec,
        expected,
        arrived: g?.unique ?? 0,
        p50: g?.latency?.p50 ?? null,
        p90: g?.latency?.p90 ?? null,
        p99: g?.latency?.p99 ?? null,
        max: g?.latency?.max ?? null,
        hung: `${hungAtStart} open at start; ${hg?.requests ?? 0} in all (${perSec(hg?.requests ?? 0, w.durationMs)}/s)`,
        errors: ok ? errorsText(r.errors) : `${expected - (g?.unique ?? 0)} healthy missing; ${errorsText(r.errors)}`,
        serverCpu: w.procs['server']?.cpuPct ?? null,
        rss: w.procs['server']?.rssMaxMB ?? null,
        otherCpu: w.system?.otherPct ?? null,
      };
      ctx.log(`healthy p50 ${g?.latency?.p50} p99 ${g?.latency?.p99} max ${g?.latency?.max} ms; hung requests ${hg?.requests ?? 0}`);
      return {
        method: [
          `Application "hung": ${HUNG} endpoints on a second receiver port that accept the connection and never answer. ${FILL_MESSAGES} messages are published to it first (each to every endpoint: more than each endpoint's concurrency cap), then ${HUNG_RATE} msg/s during the run, so its endpoints always have backlog.`,
          `Application "healthy": one endpoint that answers 200 at once; open-loop publishing at ${HEALTHY_RATE} msg/s, ${warmupMs} ms warm-up then ${durationMs} ms measured. Latency = publish-to-arrival (signatures verified), measured messages only.`,
          'Default settings (durability full, request timeout 15 s, endpoint concurrency 20, node in-flight cap 1,000).',
        ],
        config: { hung: HUNG, healthyRate: HEALTHY_RATE, hungRate: HUNG_RATE, fillMessages: FILL_MESSAGES, warmupMs, durationMs },
        tables: [
          table('Healthy application publish-to-arrival latency (ms) beside a hung application', [
            ['offered', 'msg/s offered'],
            ['published', 'published/s'],
            ['expected', 'healthy expected'],
            ['arrived', 'healthy arrived'],
            ['p50', 'healthy p50'],
            ['p90', 'p90'],
            ['p99', 'p99'],
            ['max', 'max'],
            ['hung', 'hung endpoints received'],
            ['errors', 'errors'],
            ['serverCpu', 'server CPU %'],
            ['rss', 'server RSS MB'],
            ['otherCpu', 'other CPU %'],
          ], [row]),
        ],
        notes: ['Target: healthy p99 ≤ 250 ms while the hung application holds its slots.'],
        headline: { healthyP50Ms: g?.latency?.p50 ?? null, healthyP99Ms: g?.latency?.p99 ?? null, healthyArrived: g?.unique ?? 0, healthyExpected: expected },
        detail: { load: r, window: w, receiver: stats.groups, drained: ok },
      };
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await api.close();
      await ctx.stopServer(server);
    }
  },
};

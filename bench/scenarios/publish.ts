import { randomUUID } from 'node:crypto';
import { Api, addEndpoints } from '../lib/api.js';
import { closedLoop } from '../loadgen.js';
import { arrivalsIn, errorsText, messageBody, perSec, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';

const CLIENTS = [1, 16, 64];
const ONE_ENDPOINT_CLIENTS = 64;
/** Clients of the rows that send an idempotency key with every request, as the svix SDKs do. */
const KEYED_CLIENTS = [16, 64];

export const publish: Scenario = {
  name: 'publish',
  title: 'Publish API: accepted messages/s and latency, durability full and normal',
  async run(ctx) {
    const warmupMs = ctx.d(1000);
    const durationMs = ctx.d(6000);
    const receiver = await ctx.receiver();
    await receiver.listen();
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const best: Record<string, number> = {};

    for (const durability of ['full', 'normal'] as const) {
      // The per-application request limit (10,000/s by default) would answer 429 at this rate.
      const server = await ctx.server({ durability, env: { SWITCHBOARD_RATE_LIMIT_APP: 'off' } });
      const api = new Api(server.baseUrl);
      const mon = ctx.monitor(server, receiver);
      try {
        // 1) An application without endpoints: the accept path alone (auth, validation, durable insert, answer).
        const app = await api.createApp(`bench-publish-${durability}`);
        // The svix SDKs send an `idempotency-key` (a fresh UUID) with every POST; those rows are
        // reported apart and left out of the headline.
        const runs = [...CLIENTS.map((c) => ({ concurrency: c, keyed: false })), ...KEYED_CLIENTS.map((c) => ({ concurrency: c, keyed: true }))];
        for (const { concurrency, keyed } of runs) {
          mon.beginWindow();
          const r = await closedLoop({
            baseUrl: server.baseUrl,
            headers: api.headers,
            warmupMs,
            durationMs,
            concurrency,
            next: (seq) => ({
              path: `/api/v1/app/${app}/msg`,
              body: messageBody('invoice.paid', 'publish', seq),
              ...(keyed ? { headers: { 'idempotency-key': `auto_${randomUUID()}` } } : {}),
            }),
          });
          const w = mon.endWindow();
          if (!keyed) best[durability] = Math.max(best[durability] ?? 0, r.acceptedPerSec);
          rows.push({
            durability,
            endpoints: 0,
            key: keyed ? 'yes' : 'no',
            clients: concurrency,
            accepted: r.acceptedPerSec,
            p50: r.latency.p50,
            p90: r.latency.p90,
            p99: r.latency.p99,
            max: r.latency.max,
            errors: errorsText(r.errors),
            deliveries: null,
            serverCpu: w.procs['server']?.cpuPct ?? null,
            loadgenCpu: w.procs['loadgen']?.cpuPct ?? null,
            rss: w.procs['server']?.rssMaxMB ?? null,
            otherCpu: w.system?.otherPct ?? null,
          });
          detail.push({ durability, endpoints: 0, idempotencyKey: keyed, load: r, window: w });
          ctx.log(`${durability} c=${concurrency}${keyed ? ' keyed' : ''}: ${r.acceptedPerSec}/s p99 ${r.latency.p99} ms`);
        }

        // 2) One endpoint subscribed: publishing while the same process delivers every message.
        const app1 = await api.createApp(`bench-publish-1ep-${durability}`);
        await addEndpoints(api, app1, receiver.port, [`/publish/${durability}`]);
        await receiver.configure({ [`/publish/${durability}`]: { mode: { kind: 'ok' }, group: 'publish' } });
        const phase = `publish-${durability}`;
        await receiver.reset(phase);
        mon.beginWindow();
        const r = await closedLoop({
          baseUrl: server.baseUrl,
          headers: api.headers,
          warmupMs,
          durationMs,
          concurrency: ONE_ENDPOINT_CLIENTS,
          next: (seq) => ({ path: `/api/v1/app/${app1}/msg`, body: messageBody('invoice.paid', phase, seq) }),
        });
        const w = mon.endWindow();
        const st = await receiver.stats(true);
        const g = st.groups['publish'];
        const delivered = arrivalsIn(g?.timeline, st.phaseStart, r.windowStart, r.windowEnd);
        best[durability] = Math.max(best[durability] ?? 0, r.acceptedPerSec);
        rows.push({
          durability,
          endpoints: 1,
          key: 'no',
          clients: ONE_ENDPOINT_CLIENTS,
          accepted: r.acceptedPerSec,
          p50: r.latency.p50,
          p90: r.latency.p90,
          p99: r.latency.p99,
          max: r.latency.max,
          errors: errorsText(r.errors),
          deliveries: perSec(delivered, r.windowMs),
          serverCpu: w.procs['server']?.cpuPct ?? null,
          loadgenCpu: w.procs['loadgen']?.cpuPct ?? null,
          rss: w.procs['server']?.rssMaxMB ?? null,
          otherCpu: w.system?.otherPct ?? null,
        });
        if (g) delete g.timeline;
        detail.push({ durability, endpoints: 1, load: r, window: w, receiver: g });
        ctx.log(`${durability} 1 endpoint c=${ONE_ENDPOINT_CLIENTS}: ${r.acceptedPerSec}/s, delivered ${perSec(delivered, r.windowMs)}/s`);
      } finally {
        mon.stop();
        ctx.notePeak(mon);
        await api.close();
        await ctx.stopServer(server);
      }
    }

    return {
      method: [
        `Closed loop: N clients (undici pool, one keep-alive connection each, no pipelining), each sending \`POST /api/v1/app/{app}/msg\` (a ~420-byte JSON payload) as soon as its previous request answered.`,
        `Per N: ${warmupMs} ms warm-up, then ${durationMs} ms measured. accepted/s = 2xx answers completed in the measured window / window; latency = request start to end of response body, requests started in the window (HdrHistogram).`,
        'Rows with "idempotency key" yes: every request carries its own `idempotency-key` header (`auto_` and a fresh UUID, as the svix SDKs send with every POST), so the answer is also stored for replay; they are left out of the best accepted/s. Rows with 0 endpoints: the application has no endpoints, so only the accept path runs (auth, validation, durable insert, answer). Rows with 1 endpoint: every message is also delivered to a local receiver (answering 200 without verification) by the same server process; "deliveries/s" counts first arrivals at the receiver in the window.',
        'A fresh server (new SQLite data directory) per durability mode, with `SWITCHBOARD_RATE_LIMIT_APP=off` (the per-application limit of 10,000 requests/s would otherwise answer 429 at the highest rates). CPU % is of one core (200 % = both cores); RSS is the server\'s peak VmRSS, sampled every 250 ms.',
      ],
      config: { clients: CLIENTS, oneEndpointClients: ONE_ENDPOINT_CLIENTS, warmupMs, durationMs },
      tables: [
        table(
          'Publish: accepted messages/s and latency (ms)',
          [
            ['durability', 'durability'],
            ['endpoints', 'endpoints'],
            ['key', 'idempotency key'],
            ['clients', 'clients'],
            ['accepted', 'accepted/s'],
            ['p50', 'p50'],
            ['p90', 'p90'],
            ['p99', 'p99'],
            ['max', 'max'],
            ['errors', 'errors'],
            ['deliveries', 'deliveries/s'],
            ['serverCpu', 'server CPU %'],
            ['loadgenCpu', 'loadgen CPU %'],
            ['rss', 'server RSS MB'],
            ['otherCpu', 'other CPU %'],
          ],
          rows,
        ),
      ],
      notes: [],
      headline: {
        publishPerSecFull: best['full'] ?? null,
        publishPerSecNormal: best['normal'] ?? null,
      },
      detail,
    };
  },
};

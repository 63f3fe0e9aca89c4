import { Api, addEndpoints, type EndpointInfo } from '../lib/api.js';
import { closedLoop, openLoop, type LoadResult } from '../loadgen.js';
import { arrivalsIn, errorsText, messageBody, perSec, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';

const RATES = [500, 1000, 2000];
const APPS = 4;
const MAX_CLIENTS = 32;

export const e2e: Scenario = {
  name: 'e2e',
  title: 'End to end: publish-to-arrival latency and sustained deliveries/s (signatures verified)',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(8000);
    const maxWarmupMs = ctx.d(3000);
    const maxDurationMs = ctx.d(10000);
    const receiver = await ctx.receiver();
    await receiver.listen();
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, receiver);
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const headline: Record<string, number | null> = {};
    try {
      const eps: EndpointInfo[] = [];
      for (let i = 0; i < APPS; i++) {
        const app = await api.createApp(`bench-e2e-${i}`);
        eps.push(...(await addEndpoints(api, app, receiver.port, [`/e2e/${i}`])));
      }
      const routes: Record<string, RouteConfig> = {};
      for (const ep of eps) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group: 'e2e' };
      await receiver.configure(routes);
      const target = (seq: number): string => `/api/v1/app/${eps[seq % eps.length]?.appId ?? ''}/msg`;

      const row = (label: string, r: LoadResult, expected: number, w: ReturnType<typeof mon.endWindow>, drained: boolean, drainMs: number): Row => ({
        rate: label,
        published: r.acceptedPerSec,
        publishP99: r.latency.p99,
        arrived: 0,
        expected,
        p50: 0,
        p90: 0,
        p99: 0,
        max: 0,
        deliveries: 0,
        dup: 0,
        badSig: 0,
        errors: errorsText(r.errors),
        drained: drained ? `${Math.round(drainMs)} ms` : `no (${Math.round(drainMs)} ms)`,
        serverCpu: w.procs['server']?.cpuPct ?? null,
        receiverCpu: w.procs['receiver']?.cpuPct ?? null,
        loadgenCpu: w.procs['loadgen']?.cpuPct ?? null,
        rss: w.procs['server']?.rssMaxMB ?? null,
        otherCpu: w.system?.otherPct ?? null,
      });

      for (const rate of RATES) {
        const phase = `e2e-${rate}`;
        await receiver.reset(phase);
        mon.beginWindow();
        const r = await openLoop({
          baseUrl: server.baseUrl,
          headers: api.headers,
          warmupMs,
          durationMs,
          ratePerSec: rate,
          maxInFlight: 256,
          // Warm-up messages carry another phase tag, so the receiver counts them apart.
          next: (seq, measured) => ({ path: target(seq), body: messageBody('invoice.paid', measured ? phase : `${phase}-warmup`, seq) }),
        });
        const w = mon.endWindow();
        const t0 = performance.now();
        const { ok } = await receiver.waitFor((s) => (s.groups['e2e']?.unique ?? 0) >= r.okMeasured, ctx.d(30_000));
        const drainMs = performance.now() - t0;
        const full = await receiver.stats(true);
        const g = full.groups['e2e'];
        const x = row(`${rate}/s`, r, r.okMeasured, w, ok, drainMs);
        if (g) {
          Object.assign(x, {
            arrived: g.unique,
            p50: g.latency?.p50,
            p90: g.latency?.p90,
            p99: g.latency?.p99,
            max: g.latency?.max,
            deliveries: perSec(arrivalsIn(g.timeline, full.phaseStart, r.windowStart, r.windowEnd), r.windowMs),
            dup: g.duplicates,
            badSig: g.verifyFailed,
          });
          delete g.timeline;
        }
        rows.push(x);
        if (rate === 1000) headline['p99At1000Ms'] = g?.latency && g.latency.count > 0 ? g.latency.p99 : null;
        detail.push({ phase, load: r, window: w, receiver: g, drained: ok, drainMs });
        ctx.log(`${rate}/s: publish ${r.acceptedPerSec}/s, arrival p50 ${g?.latency?.p50} p99 ${g?.latency?.p99} max ${g?.latency?.max} ms`);
      }

      // Maximum rate: closed-loop publishers; deliveries/s counted while they publish, then the backlog drains.
      const phase = 'e2e-max';
      await receiver.reset(phase);
      mon.beginWindow();
      const r = await closedLoop({
        baseUrl: server.baseUrl,
        headers: api.headers,
        warmupMs: maxWarmupMs,
        durationMs: maxDurationMs,
        concurrency: MAX_CLIENTS,
        next: (seq) => ({ path: target(seq), body: messageBody('invoice.paid', phase, seq) }),
      });
      const w = mon.endWindow();
      const t0 = performance.now();
      const loadEnd = r.windowEnd;
      const { ok } = await receiver.waitFor((s) => (s.groups['e2e']?.unique ?? 0) >= r.okTotal, ctx.d(45_000), 250);
      const drainMs = performance.now() - t0;
      const full = await receiver.stats(true);
      const g = full.groups['e2e'];
      const inWindow = arrivalsIn(g?.timeline, full.phaseStart, r.windowStart, r.windowEnd);
      const sustained = perSec(inWindow, r.windowMs);
      const afterLoad = g?.lastAt && g.lastAt > loadEnd ? arrivalsIn(g.timeline, full.phaseStart, loadEnd, g.lastAt + 100) : 0;
      const drainRate = g?.lastAt && g.lastAt > loadEnd ? perSec(afterLoad, g.lastAt - loadEnd) : null;
      const x = row(`max (${MAX_CLIENTS} clients)`, r, r.okTotal, w, ok, drainMs);
      if (g) {
        Object.assign(x, {
          arrived: g.unique,
          p50: g.latency?.p50,
          p90: g.latency?.p90,
          p99: g.latency?.p99,
          max: g.latency?.max,
          deliveries: sustained,
          dup: g.duplicates,
          badSig: g.verifyFailed,
        });
        delete g.timeline;
      }
      rows.push(x);
      headline['sustainedDeliveriesPerSec'] = sustained;
      // Server CPU (every thread of the process) per delivery while publishing at the maximum rate.
      const serverCpu = w.procs['server']?.cpuPct ?? null;
      headline['cpuPerDeliveryUsMax'] = serverCpu !== null && sustained > 0 ? Math.round((serverCpu * 10_000) / sustained) : null;
      headline['maxPublishPerSec'] = r.acceptedPerSec;
      headline['drainDeliveriesPerSec'] = drainRate;
      detail.push({ phase, load: r, window: w, receiver: g, drained: ok, drainMs, sustained, drainRate });
      ctx.log(`max: publish ${r.acceptedPerSec}/s, deliveries ${sustained}/s while publishing, ${String(drainRate)}/s draining after`);

      const notes = [
        `At maximum rate the publishers outrun delivery when "published/s" > "deliveries/s"; the backlog then drains at ${drainRate === null ? '—' : `${drainRate}/s`} with no publish load. Latency in that row includes the time spent in that backlog.`,
      ];
      return {
        method: [
          `${APPS} applications with one endpoint each (a local receiver answering 200 that verifies every signature with \`standardwebhooks\`); messages go round-robin to the applications, so each message is one delivery. Durability full.`,
          `Fixed rates: open-loop schedule (request k starts at t0 + k/rate, independent of answers; at most 256 in flight), ${warmupMs} ms warm-up (messages tagged apart and not counted) then ${durationMs} ms measured.`,
          'Publish-to-arrival latency = receiver wall clock when the request body has arrived minus `payload.sentAt` (publisher wall clock just before the request was sent), same machine; first arrival of each message only. "deliveries/s" = first arrivals in the measured window / window.',
          `Maximum rate: ${MAX_CLIENTS} closed-loop publishers for ${maxWarmupMs} ms + ${maxDurationMs} ms; "deliveries/s" (the sustained figure) counts arrivals during the ${maxDurationMs} ms window while publishing continues; afterwards the backlog is left to drain (bounded wait).`,
          '"expected" = messages accepted (2xx) in the measured part; "drained" = time after publishing stopped until every expected message had arrived (bounded).',
        ],
        config: { rates: RATES, apps: APPS, warmupMs, durationMs, maxClients: MAX_CLIENTS, maxWarmupMs, maxDurationMs },
        tables: [
          table(
            'End to end (latency in ms)',
            [
              ['rate', 'offered'],
              ['published', 'published/s'],
              ['publishP99', 'publish p99'],
              ['expected', 'expected'],
              ['arrived', 'arrived'],
              ['p50', 'p50'],
              ['p90', 'p90'],
              ['p99', 'p99'],
              ['max', 'max'],
              ['deliveries', 'deliveries/s'],
              ['dup', 'dup'],
              ['badSig', 'bad sig'],
              ['errors', 'errors'],
              ['drained', 'drained'],
              ['serverCpu', 'server CPU %'],
              ['receiverCpu', 'receiver CPU %'],
              ['loadgenCpu', 'loadgen CPU %'],
              ['rss', 'server RSS MB'],
              ['otherCpu', 'other CPU %'],
            ],
            rows,
          ),
        ],
        notes,
        headline,
        detail,
      };
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await api.close();
    }
  },
};

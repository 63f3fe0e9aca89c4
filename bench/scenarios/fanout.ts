import { Api, addEndpoints } from '../lib/api.js';
import { LatencyHistogram, wallMs } from '../lib/hist.js';
import { closedLoop } from '../loadgen.js';
import { errorsText, messageBody, perSec, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';

const ENDPOINTS = 100;
const SINGLE_MESSAGES = 20;
const BURST_MESSAGES = 100;

export const fanout: Scenario = {
  name: 'fanout',
  title: 'Fan-out: one message to 100 endpoints',
  async run(ctx) {
    const receiver = await ctx.receiver();
    await receiver.listen();
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, receiver);
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const headline: Record<string, number | null> = {};
    try {
      const app = await api.createApp('bench-fanout');
      const paths = Array.from({ length: ENDPOINTS }, (_, i) => `/fan/${i}`);
      const eps = await addEndpoints(api, app, receiver.port, paths);
      const routes: Record<string, RouteConfig> = {};
      for (const ep of eps) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group: 'fan' };
      await receiver.configure(routes);

      // 1) One message at a time: time until all 100 endpoints have it.
      let phase = 'fan-single';
      await receiver.reset(phase);
      const toAll = new LatencyHistogram();
      const toFirst = new LatencyHistogram();
      const publishLat = new LatencyHistogram();
      let complete = 0;
      mon.beginWindow();
      for (let i = 0; i < SINGLE_MESSAGES; i++) {
        const body = JSON.parse(messageBody('invoice.paid', phase, i)) as { eventType: string; payload: { sentAt: number } & Record<string, unknown> };
        const sentAt = body.payload.sentAt;
        await api.publish(app, body.eventType, body.payload);
        publishLat.recordMs(wallMs() - sentAt);
        const want = ENDPOINTS * (i + 1);
        const before = (await receiver.counts()).groups['fan']?.unique ?? 0;
        const { stats, ok } = await receiver.waitFor((s) => (s.groups['fan']?.unique ?? 0) >= want, ctx.d(10_000), 20);
        if (!ok) {
          ctx.log(`message ${i}: only ${(stats.groups['fan']?.unique ?? 0) - before} of ${ENDPOINTS} arrived in time`);
          continue;
        }
        complete++;
        // Latest first-arrival across paths = when the 100th endpoint got it; earliest new one = first.
        let last = 0;
        let first = Number.POSITIVE_INFINITY;
        for (const p of paths) {
          const ps = stats.paths[p];
          if (ps?.lastAt) {
            last = Math.max(last, ps.lastAt);
            first = Math.min(first, ps.lastAt);
          }
        }
        toAll.recordMs(last - sentAt);
        toFirst.recordMs(first - sentAt);
      }
      let w = mon.endWindow();
      let st = await receiver.stats();
      let g = st.groups['fan'];
      const all = toAll.summary();
      const first = toFirst.summary();
      rows.push({
        phase: `${SINGLE_MESSAGES} messages, one at a time`,
        deliveries: g?.unique ?? 0,
        publishP50: publishLat.summary().p50,
        p50: g?.latency?.p50 ?? null,
        p99: g?.latency?.p99 ?? null,
        max: g?.latency?.max ?? null,
        firstP50: first.p50,
        allP50: all.p50,
        allMax: all.max,
        rate: null,
        errors: `${SINGLE_MESSAGES - complete} incomplete`,
        dup: g?.duplicates ?? 0,
        badSig: g?.verifyFailed ?? 0,
        serverCpu: w.procs['server']?.cpuPct ?? null,
        receiverCpu: w.procs['receiver']?.cpuPct ?? null,
        rss: w.procs['server']?.rssMaxMB ?? null,
        otherCpu: w.system?.otherPct ?? null,
      });
      headline['fanoutAllP50Ms'] = all.p50;
      detail.push({ phase, toAll: all, toFirst: first, publish: publishLat.summary(), receiver: g, window: w });
      ctx.log(`single: to-all p50 ${all.p50} ms, max ${all.max} ms`);

      // 2) A burst: 100 messages published back to back = 10,000 deliveries.
      phase = 'fan-burst';
      await receiver.reset(phase);
      mon.beginWindow();
      const start = wallMs();
      const r = await closedLoop({
        baseUrl: server.baseUrl,
        headers: api.headers,
        warmupMs: 0,
        durationMs: ctx.d(20_000),
        concurrency: 4,
        maxRequests: BURST_MESSAGES,
        next: (seq) => ({ path: `/api/v1/app/${app}/msg`, body: messageBody('invoice.paid', phase, seq) }),
      });
      const want = r.okTotal * ENDPOINTS;
      const res = await receiver.waitFor((s) => (s.groups['fan']?.unique ?? 0) >= want, ctx.d(60_000), 50);
      w = mon.endWindow();
      st = await receiver.stats();
      g = st.groups['fan'];
      const span = g?.lastAt ? g.lastAt - start : 0;
      const rate = perSec(g?.unique ?? 0, span);
      rows.push({
        phase: `${BURST_MESSAGES} messages back to back`,
        deliveries: g?.unique ?? 0,
        publishP50: r.latency.p50,
        p50: g?.latency?.p50 ?? null,
        p99: g?.latency?.p99 ?? null,
        max: g?.latency?.max ?? null,
        firstP50: null,
        allP50: null,
        allMax: Math.round(span),
        rate,
        errors: res.ok ? errorsText(r.errors) : `${want - (g?.unique ?? 0)} missing; ${errorsText(r.errors)}`,
        dup: g?.duplicates ?? 0,
        badSig: g?.verifyFailed ?? 0,
        serverCpu: w.procs['server']?.cpuPct ?? null,
        receiverCpu: w.procs['receiver']?.cpuPct ?? null,
        rss: w.procs['server']?.rssMaxMB ?? null,
        otherCpu: w.system?.otherPct ?? null,
      });
      headline['fanoutBurstDeliveriesPerSec'] = rate;
      detail.push({ phase, load: r, receiver: g, window: w, spanMs: span });
      ctx.log(`burst: ${g?.unique ?? 0} deliveries in ${Math.round(span)} ms (${rate}/s)`);

      return {
        method: [
          `One application with ${ENDPOINTS} endpoints on a local receiver that verifies every signature; every message goes to all ${ENDPOINTS}. Durability full.`,
          `One at a time: ${SINGLE_MESSAGES} messages, each published with one API call after the previous one reached all ${ENDPOINTS} endpoints. "to first"/"to all 100" = time from \`sentAt\` to the first / the last of the ${ENDPOINTS} arrivals.`,
          `Burst: ${BURST_MESSAGES} messages published by 4 closed-loop clients as fast as accepted (${BURST_MESSAGES * ENDPOINTS} deliveries); "all done" = time from the first publish to the last arrival, deliveries/s = deliveries / that time.`,
          'Delivery latency p50/p99/max = publish-to-arrival over every (message, endpoint) pair.',
        ],
        config: { endpoints: ENDPOINTS, singleMessages: SINGLE_MESSAGES, burstMessages: BURST_MESSAGES },
        tables: [
          table(
            'Fan-out to 100 endpoints (ms)',
            [
              ['phase', 'phase'],
              ['deliveries', 'deliveries'],
              ['publishP50', 'publish p50'],
              ['p50', 'delivery p50'],
              ['p99', 'delivery p99'],
              ['max', 'delivery max'],
              ['firstP50', 'to first p50'],
              ['allP50', 'to all 100 p50'],
              ['allMax', 'to all 100 max / all done'],
              ['rate', 'deliveries/s'],
              ['errors', 'errors'],
              ['dup', 'dup'],
              ['badSig', 'bad sig'],
              ['serverCpu', 'server CPU %'],
              ['receiverCpu', 'receiver CPU %'],
              ['rss', 'server RSS MB'],
              ['otherCpu', 'other CPU %'],
            ],
            rows,
          ),
        ],
        notes: [],
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

import { Api, addEndpoints, type EndpointStats } from '../lib/api.js';
import { wallMs } from '../lib/hist.js';
import { closedLoop } from '../loadgen.js';
import { freePort, sleep } from '../lib/proc.js';
import { errorsText, maxWindowCount, messageBody, perSec, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';

const ENDPOINTS = 10;
const THROTTLED = 5;
const THROTTLE_RATE = 250;
const MESSAGES = 10_000;
/** ~90 s of retries in total: nothing gives up while the receiver is down. */
const RETRY_SCHEDULE = '1,1,1,2,2,3,5,5,10,10,20,30';

export const backlog: Scenario = {
  name: 'backlog',
  title: 'Backlog: 100,000 deliveries queued while the receiver is down, then it comes up',
  async run(ctx) {
    const messages = Math.max(100, Math.round(MESSAGES * Math.min(1, ctx.scale)));
    const receiver = await ctx.receiver();
    const port = await freePort(); // the receiver is not listening on it yet: connections are refused
    const server = await ctx.server({ durability: 'full', retrySchedule: RETRY_SCHEDULE });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, receiver);
    try {
      const app = await api.createApp('bench-backlog');
      const paths = Array.from({ length: ENDPOINTS }, (_, i) => `/backlog/${i < THROTTLED ? 'throttled' : 'unthrottled'}/${i}`);
      const eps = await addEndpoints(api, app, port, paths, (_p, i) => (i < THROTTLED ? { throttleRate: THROTTLE_RATE } : {}));
      const routes: Record<string, RouteConfig> = {};
      for (const [i, ep] of eps.entries()) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group: i < THROTTLED ? 'throttled' : 'unthrottled' };
      await receiver.configure(routes);
      const phase = 'backlog';
      await receiver.reset(phase);

      // 1) Publish while the receiver is down.
      mon.beginWindow();
      const r = await closedLoop({
        baseUrl: server.baseUrl,
        headers: api.headers,
        warmupMs: 0,
        durationMs: ctx.d(60_000),
        concurrency: 16,
        maxRequests: messages,
        next: (seq) => ({ path: `/api/v1/app/${app}/msg`, body: messageBody('invoice.paid', phase, seq) }),
      });
      await sleep(2000);
      const down = mon.endWindow();
      const expected = r.okTotal * ENDPOINTS;
      ctx.log(`published ${r.okTotal} messages (${expected} deliveries) at ${r.acceptedPerSec}/s while the receiver is down`);
      const before: EndpointStats[] = [];
      for (const ep of eps) before.push(await api.endpointStats(app, ep.endpointId).catch(() => ({ success: 0, pending: 0, fail: 0, sending: 0 })));
      const queued = before.reduce((a, s) => a + s.pending + s.sending, 0);
      const failedWhileDown = before.reduce((a, s) => a + s.fail, 0);

      // 2) The receiver comes up; measure the drain.
      mon.beginWindow();
      const upAt = wallMs();
      await receiver.listen(port);
      const total = (s: { groups: Record<string, { unique: number }> }): number =>
        (s.groups['throttled']?.unique ?? 0) + (s.groups['unthrottled']?.unique ?? 0);
      const { ok } = await receiver.waitFor((s) => total(s) >= expected, ctx.d(100_000), 500);
      const up = mon.endWindow();
      const st = await receiver.stats(true);
      const arrived = total(st);

      const rows: Row[] = [];
      let throttleOk = true;
      for (const [i, ep] of eps.entries()) {
        const ps = st.paths[ep.path];
        const limit = i < THROTTLED ? THROTTLE_RATE : null;
        const span = ps?.firstAt && ps.lastAt ? ps.lastAt - ps.firstAt : 0;
        const max1s = maxWindowCount(ps?.timeline, 1000);
        const respected = limit === null ? null : max1s <= limit * 1.1;
        if (respected === false) throttleOk = false;
        rows.push({
          endpoint: ep.path,
          limit,
          arrived: ps?.unique ?? 0,
          firstAfterUp: ps?.firstAt ? Math.round(ps.firstAt - upAt) : null,
          lastAfterUp: ps?.lastAt ? Math.round(ps.lastAt - upAt) : null,
          rate: perSec(Math.max(0, (ps?.unique ?? 0) - 1), span),
          max1s,
          respected,
          dup: ps?.duplicates ?? 0,
          badSig: ps?.verifyFailed ?? 0,
        });
      }
      const lastAt = Math.max(...Object.values(st.groups).map((g) => g.lastAt ?? 0));
      const drainMs = lastAt > upAt ? lastAt - upAt : 0;
      const drainRate = perSec(arrived, drainMs);
      const unthrottled = st.groups['unthrottled'];
      const unthrottledMs = unthrottled?.lastAt ? unthrottled.lastAt - upAt : 0;
      const summaryRows: Row[] = [
        {
          messages: r.okTotal,
          expected,
          publishRate: r.acceptedPerSec,
          publishErrors: errorsText(r.errors),
          queued,
          failedWhileDown,
          arrived,
          drainMs: Math.round(drainMs),
          drainRate,
          unthrottledRate: perSec(unthrottled?.unique ?? 0, unthrottledMs),
          throttleOk,
          serverCpuDown: down.procs['server']?.cpuPct ?? null,
          serverCpuUp: up.procs['server']?.cpuPct ?? null,
          rss: Math.max(down.procs['server']?.rssMaxMB ?? 0, up.procs['server']?.rssMaxMB ?? 0),
          otherCpu: Math.max(down.system?.otherPct ?? 0, up.system?.otherPct ?? 0),
        },
      ];
      for (const p of Object.values(st.paths)) delete p.timeline;
      for (const g of Object.values(st.groups)) delete g.timeline;
      ctx.log(`drained ${arrived}/${expected} in ${Math.round(drainMs)} ms (${drainRate}/s); throttle respected: ${String(throttleOk)}`);
      return {
        method: [
          `One application with ${ENDPOINTS} endpoints: ${THROTTLED} with throttleRate ${THROTTLE_RATE}/s, ${ENDPOINTS - THROTTLED} without. Durability full; retry schedule ${RETRY_SCHEDULE} s (~90 s in all), so no delivery gives up while the receiver is down.`,
          `The receiver's port is closed (connections refused) while ${messages} messages are published by 16 closed-loop clients (${messages * ENDPOINTS} deliveries), then 2 s more; "queued" = pending + sending over all endpoints from the stats API at that moment; "failed" = deliveries already given up.`,
          'Then the receiver starts listening on that port ("up"); it verifies every signature and records first arrivals per endpoint in 100 ms buckets. Drain time = last arrival - up; drain rate = arrivals / drain time.',
          `Per endpoint: rate = (arrivals - 1) / (last - first arrival); max in 1 s = most arrivals in any sliding 1 s window; the limit counts as respected when that is ≤ limit × 1.1. Retried deliveries wait for their next scheduled attempt after the receiver is up, which adds to the drain tail.`,
        ],
        config: { endpoints: ENDPOINTS, throttled: THROTTLED, throttleRate: THROTTLE_RATE, messages, retrySchedule: RETRY_SCHEDULE },
        tables: [
          table(
            'Backlog drain',
            [
              ['messages', 'messages'],
              ['expected', 'deliveries'],
              ['publishRate', 'publish/s (down)'],
              ['publishErrors', 'publish errors'],
              ['queued', 'queued at up'],
              ['failedWhileDown', 'failed'],
              ['arrived', 'arrived'],
              ['drainMs', 'drain ms'],
              ['drainRate', 'drain/s'],
              ['unthrottledRate', 'unthrottled drain/s'],
              ['throttleOk', 'limits respected'],
              ['serverCpuDown', 'server CPU % down'],
              ['serverCpuUp', 'server CPU % draining'],
              ['rss', 'server RSS MB'],
              ['otherCpu', 'other CPU %'],
            ],
            summaryRows,
          ),
          table(
            'Per endpoint after the receiver came up (ms after up)',
            [
              ['endpoint', 'endpoint'],
              ['limit', 'throttleRate'],
              ['arrived', 'arrived'],
              ['firstAfterUp', 'first'],
              ['lastAfterUp', 'last'],
              ['rate', 'rate /s'],
              ['max1s', 'max in 1 s'],
              ['respected', 'respected'],
              ['dup', 'dup'],
              ['badSig', 'bad sig'],
            ],
            rows,
          ),
        ],
        notes: ok ? [] : [`Not fully drained within the bounded wait: ${expected - arrived} deliveries missing.`],
        headline: { drainDeliveriesPerSec: drainRate, queued, throttleRespected: throttleOk ? 1 : 0 },
        detail: { load: r, down, up, before, receiver: st },
      };
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await api.close();
    }
  },
};

import { Api, addEndpoints, type EndpointInfo, type EndpointStats } from '../lib/api.js';
import { wallMs } from '../lib/hist.js';
import { closedLoop } from '../loadgen.js';
import { freePort, sleep } from '../lib/proc.js';
import { errorsText, maxWindow, messageBody, perSec, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';

/**
 * "bulk": unthrottled endpoints carrying the 100,000 deliveries (50 x 2,000: few publish
 * calls, so the publishing phase is short even while the server retries against the closed port).
 */
const BULK_ENDPOINTS = 50;
const BULK_MESSAGES = 2_000;
/** "limited": endpoints with a rate limit below their fair share of the drain (~60/s each here), so it binds. */
const LIMITED_ENDPOINTS = 2;
const LIMITED_MESSAGES = 750;
const THROTTLE_RATE = 25;
/**
 * A constant 1 s retry delay (40 retries): whatever failed while the receiver was down is
 * due again within ~1.2 s of it coming up, so the drain measures the server, not the
 * retry schedule. With the default schedule the next attempt would be 5 s to 30 min away.
 */
const RETRY_SCHEDULE = Array.from({ length: 40 }, () => '1').join(',');

export const backlog: Scenario = {
  name: 'backlog',
  title: 'Backlog: 100,000 deliveries queued while the receiver is down, then it comes up',
  async run(ctx) {
    const scale = Math.min(1, ctx.scale);
    const bulkMessages = Math.max(100, Math.round(BULK_MESSAGES * scale));
    const limitedMessages = Math.max(100, Math.round(LIMITED_MESSAGES * scale));
    const receiver = await ctx.receiver();
    const port = await freePort(); // the receiver is not listening on it yet: connections are refused
    const server = await ctx.server({ durability: 'full', retrySchedule: RETRY_SCHEDULE });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, receiver);
    try {
      const bulkApp = await api.createApp('bench-backlog-bulk');
      const limitedApp = await api.createApp('bench-backlog-limited');
      const bulk = await addEndpoints(api, bulkApp, port, Array.from({ length: BULK_ENDPOINTS }, (_, i) => `/backlog/bulk/${i}`));
      const limited = await addEndpoints(
        api,
        limitedApp,
        port,
        Array.from({ length: LIMITED_ENDPOINTS }, (_, i) => `/backlog/limited/${i}`),
        () => ({ throttleRate: THROTTLE_RATE }),
      );
      const routes: Record<string, RouteConfig> = {};
      for (const ep of bulk) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group: 'bulk' };
      for (const ep of limited) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group: 'limited' };
      await receiver.configure(routes);
      const phase = 'backlog';
      await receiver.reset(phase);

      // 1) Publish while the receiver is down: every `ratio`-th message goes to the limited app.
      const total = bulkMessages + limitedMessages;
      const ratio = total / limitedMessages;
      const isLimited = (seq: number): boolean => Math.floor((seq + 1) / ratio) > Math.floor(seq / ratio);
      let sentBulk = 0;
      let sentLimited = 0;
      mon.beginWindow();
      const r = await closedLoop({
        baseUrl: server.baseUrl,
        headers: api.headers,
        warmupMs: 0,
        durationMs: ctx.d(40_000),
        concurrency: 16,
        maxRequests: total,
        next: (seq) => {
          const lim = isLimited(seq);
          if (lim) sentLimited++;
          else sentBulk++;
          return { path: `/api/v1/app/${lim ? limitedApp : bulkApp}/msg`, body: messageBody('invoice.paid', phase, seq) };
        },
      });
      await sleep(2000);
      const down = mon.endWindow();
      const failedPublishes = r.sent - r.okTotal;
      // Publish failures are rare; if any, the expected counts are upper bounds.
      const expectedBulk = sentBulk * BULK_ENDPOINTS;
      const expectedLimited = sentLimited * LIMITED_ENDPOINTS;
      const expected = expectedBulk + expectedLimited;
      ctx.log(`published ${r.okTotal} messages (${expected} deliveries) at ${r.acceptedPerSec}/s while the receiver is down`);
      const stats = async (eps: EndpointInfo[]): Promise<EndpointStats[]> => {
        const out: EndpointStats[] = [];
        for (const ep of eps) out.push(await api.endpointStats(ep.appId, ep.endpointId).catch(() => ({ success: 0, pending: 0, fail: 0, sending: 0 })));
        return out;
      };
      const before = await stats([...bulk, ...limited]);
      const queued = before.reduce((a, s) => a + s.pending + s.sending, 0);
      const failedWhileDown = before.reduce((a, s) => a + s.fail, 0);

      // 2) The receiver comes up; measure the drain.
      mon.beginWindow();
      const upAt = wallMs();
      await receiver.listen(port);
      const arrivedOf = (s: { groups: Record<string, { unique: number }> }): number => (s.groups['bulk']?.unique ?? 0) + (s.groups['limited']?.unique ?? 0);
      const { ok } = await receiver.waitFor((s) => arrivedOf(s) >= expected - failedPublishes * BULK_ENDPOINTS, ctx.d(60_000), 500);
      const up = mon.endWindow();
      const st = await receiver.stats(true);
      const g = st.groups;
      const arrived = arrivedOf(st);
      const after = await stats([...bulk, ...limited]);

      const drainOf = (name: string): { ms: number; rate: number } => {
        const x = g[name];
        const ms = x?.lastAt ? x.lastAt - upAt : 0;
        return { ms: Math.round(ms), rate: perSec(x?.unique ?? 0, ms) };
      };
      const bulkDrain = drainOf('bulk');
      const limitedDrain = drainOf('limited');
      const lastAt = Math.max(g['bulk']?.lastAt ?? 0, g['limited']?.lastAt ?? 0);
      const drainMs = lastAt > upAt ? lastAt - upAt : 0;
      const drainRate = perSec(arrived, drainMs);

      const rows: Row[] = [];
      let throttleOk = true;
      const perEndpoint = (ep: EndpointInfo, limit: number | null): Row => {
        const ps = st.paths[ep.path];
        const span = ps?.firstAt && ps.lastAt ? ps.lastAt - ps.firstAt : 0;
        const mw = maxWindow(ps?.timeline, 1000);
        return {
          endpoint: ep.path,
          limit,
          arrived: ps?.unique ?? 0,
          firstAfterUp: ps?.firstAt ? Math.round(ps.firstAt - upAt) : null,
          lastAfterUp: ps?.lastAt ? Math.round(ps.lastAt - upAt) : null,
          rate: perSec(Math.max(0, (ps?.unique ?? 0) - 1), span),
          max1s: mw.count,
          max1sAt: ps?.firstAt ? Math.round(st.phaseStart + mw.startMs - upAt) : null,
          respected: limit === null ? null : mw.count <= limit * 1.1,
          dup: ps?.duplicates ?? 0,
          badSig: ps?.verifyFailed ?? 0,
        };
      };
      for (const ep of limited) {
        const row = perEndpoint(ep, THROTTLE_RATE);
        if (row['respected'] === false) throttleOk = false;
        rows.push(row);
      }
      // The bulk endpoints in one row: sums, earliest first / latest last, the spread of per-endpoint rates.
      const bulkRows = bulk.map((ep) => perEndpoint(ep, null));
      const num = (r: Row, k: string): number => (typeof r[k] === 'number' ? r[k] : 0);
      const rates = bulkRows.map((r) => num(r, 'rate')).sort((a, b) => a - b);
      rows.push({
        endpoint: `bulk: ${BULK_ENDPOINTS} endpoints (rate: min / median / max)`,
        limit: null,
        arrived: bulkRows.reduce((a, r) => a + num(r, 'arrived'), 0),
        firstAfterUp: Math.min(...bulkRows.map((r) => num(r, 'firstAfterUp'))),
        lastAfterUp: Math.max(...bulkRows.map((r) => num(r, 'lastAfterUp'))),
        rate: `${rates[0] ?? 0} / ${rates[Math.floor(rates.length / 2)] ?? 0} / ${rates[rates.length - 1] ?? 0}`,
        max1s: Math.max(...bulkRows.map((r) => num(r, 'max1s'))),
        max1sAt: null,
        respected: null,
        dup: bulkRows.reduce((a, r) => a + num(r, 'dup'), 0),
        badSig: bulkRows.reduce((a, r) => a + num(r, 'badSig'), 0),
      });
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
          bulkRate: bulkDrain.rate,
          limitedRate: limitedDrain.rate,
          throttleOk,
          serverCpuDown: down.procs['server']?.cpuPct ?? null,
          serverCpuUp: up.procs['server']?.cpuPct ?? null,
          receiverCpuUp: up.procs['receiver']?.cpuPct ?? null,
          rss: Math.max(down.procs['server']?.rssMaxMB ?? 0, up.procs['server']?.rssMaxMB ?? 0),
          otherCpu: Math.max(down.system?.otherPct ?? 0, up.system?.otherPct ?? 0),
        },
      ];
      for (const p of Object.values(st.paths)) delete p.timeline;
      for (const x of Object.values(g)) delete x.timeline;
      ctx.log(`drained ${arrived}/${expected} in ${Math.round(drainMs)} ms (${drainRate}/s); limits respected: ${String(throttleOk)}`);
      const notes: string[] = [];
      if (!ok) notes.push(`Not fully drained within the bounded wait: ${expected - arrived} deliveries had not arrived.`);
      return {
        method: [
          `Two applications on one server (durability full): "bulk" with ${BULK_ENDPOINTS} endpoints without a rate limit, "limited" with ${LIMITED_ENDPOINTS} endpoints with throttleRate ${THROTTLE_RATE}/s. Retry schedule: 1 s × 40, so whatever failed while the receiver was down is due again within ~1.2 s of it coming up (the drain then measures the server, not the retry schedule).`,
          `While the receiver's port is closed (connections refused), 16 closed-loop clients publish ${bulkMessages} messages to "bulk" (${bulkMessages * BULK_ENDPOINTS} deliveries) interleaved with ${limitedMessages} to "limited" (${limitedMessages * LIMITED_ENDPOINTS} deliveries); then 2 s more. "queued" = pending + sending over all endpoints from the stats API at that moment; "failed" = deliveries already given up.`,
          'Then the receiver starts listening on that port ("up"); it verifies every signature and records first arrivals per endpoint in 100 ms buckets. Drain time = last arrival - up; drain rate = arrivals / drain time (per group likewise).',
          `Per endpoint: rate = (arrivals - 1) / (last - first arrival); "max in 1 s" = most arrivals in any sliding 1 s window (100 ms steps) and when that window starts; a limit counts as respected when that is ≤ limit × 1.1. The bulk endpoints are summarised in one row (every one is in the JSON).`,
        ],
        config: {
          bulkEndpoints: BULK_ENDPOINTS,
          bulkMessages,
          limitedEndpoints: LIMITED_ENDPOINTS,
          limitedMessages,
          throttleRate: THROTTLE_RATE,
          retrySchedule: '1 s x 40',
        },
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
              ['bulkRate', 'bulk drain/s'],
              ['limitedRate', 'limited drain/s'],
              ['throttleOk', 'limits respected'],
              ['serverCpuDown', 'server CPU % down'],
              ['serverCpuUp', 'server CPU % draining'],
              ['receiverCpuUp', 'receiver CPU % draining'],
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
              ['max1sAt', 'that 1 s starts at'],
              ['respected', 'respected'],
              ['dup', 'dup'],
              ['badSig', 'bad sig'],
            ],
            rows,
          ),
        ],
        notes,
        headline: { drainDeliveriesPerSec: drainRate, bulkDrainPerSec: bulkDrain.rate, queued, throttleRespected: throttleOk ? 1 : 0 },
        detail: { load: r, down, up, before, after, bulkEndpoints: bulkRows, receiver: st },
      };
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await api.close();
    }
  },
};

import { Api, addEndpoints } from '../lib/api.js';
import { closedLoop, openLoop } from '../loadgen.js';
import { deliveryColumns, deliveryPhase, type DeliveryPhaseResult } from '../lib/phases.js';
import { messageBody, round2, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';
import type { ServerHandle } from '../lib/proc.js';

const APPS = 4;
const RATE = 500;
const MAX_CLIENTS = 32;

/** Matches every benchmark message (messageBody): the cost is the filter's, not fewer deliveries. */
const FILTER = {
  eventType: 'invoice.paid',
  'payload.data.amount_due': { $gte: 0 },
  'payload.data.currency': { $in: ['eur', 'usd'] },
};

/**
 * Marks the payload and sends to `<endpoint URL>/t`: the receiver only counts arrivals on
 * that path, so every counted delivery went through the transformation.
 */
const CODE = `function handler(webhook) {
  webhook.payload.transformed = true;
  webhook.url = webhook.url + '/t';
  return webhook;
}`;

interface Variant {
  name: string;
  transformed: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'plain', transformed: false },
  { name: 'filter + transformation', transformed: true },
];

/** Maximum-rate rounds per variant, alternating between the variants (so slow spells of a shared machine hit both). */
const ROUNDS = 2;

export const transform: Scenario = {
  name: 'transform',
  title: 'Filters and transformations: end-to-end cost of a content filter and a JavaScript transformation per endpoint',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(8000);
    const maxWarmupMs = ctx.d(2000);
    const maxDurationMs = ctx.d(6000);
    const receiver = await ctx.receiver();
    await receiver.listen();
    const rows: Row[] = [];
    const detail: unknown[] = [];

    // One fresh server per variant, both up for the whole run; only one is loaded at a time.
    const setups: { v: Variant; server: ServerHandle; api: Api; group: string; target: (seq: number) => string }[] = [];
    for (const [vi, v] of VARIANTS.entries()) {
      const server = await ctx.server({ durability: 'full' });
      const api = new Api(server.baseUrl);
      const group = `transform-${vi}`;
      const appIds: string[] = [];
      const routes: Record<string, RouteConfig> = {};
      for (let i = 0; i < APPS; i++) {
        const app = await api.createApp(`bench-transform-${vi}-${i}`);
        appIds.push(app);
        const [ep] = await addEndpoints(api, app, receiver.port, [`/transform/${vi}/${i}`], () => (v.transformed ? { filter: FILTER } : {}));
        if (!ep) throw new Error('endpoint not created');
        if (v.transformed) {
          await api.call('PATCH', `/api/v1/app/${app}/endpoint/${ep.endpointId}/transformation`, { code: CODE, enabled: true });
        }
        routes[v.transformed ? `${ep.path}/t` : ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group };
      }
      await receiver.configure(routes);
      setups.push({ v, server, api, group, target: (seq) => `/api/v1/app/${appIds[seq % appIds.length] ?? ''}/msg` });
    }
    const mon = ctx.monitor(
      setups.map((x) => x.server),
      receiver,
    );
    const fixedBy: Record<string, DeliveryPhaseResult> = {};
    const maxBy: Record<string, DeliveryPhaseResult[]> = {};
    try {
      for (const [vi, x] of setups.entries()) {
        const phase = `transform-${vi}-${RATE}`;
        const res = await deliveryPhase({
          label: `${x.v.name}, ${RATE}/s`,
          phase,
          group: x.group,
          receiver,
          monitor: mon,
          mode: 'fixed',
          drainTimeoutMs: ctx.d(30_000),
          load: () =>
            openLoop({
              baseUrl: x.server.baseUrl,
              headers: x.api.headers,
              warmupMs,
              durationMs,
              ratePerSec: RATE,
              maxInFlight: 256,
              next: (seq, measured) => ({ path: x.target(seq), body: messageBody('invoice.paid', measured ? phase : `${phase}-warmup`, seq) }),
            }),
        });
        rows.push(res.row);
        fixedBy[x.v.name] = res;
        detail.push({ variant: x.v.name, phase, load: res.load, window: res.window, receiver: res.receiver, drained: res.drained, drainMs: res.drainMs });
        ctx.log(`${x.v.name} ${RATE}/s: p50 ${res.latency?.p50} p99 ${res.latency?.p99} ms`);
      }
      for (let round = 1; round <= ROUNDS; round++) {
        const order = round % 2 === 1 ? setups.map((_, i) => i) : setups.map((_, i) => setups.length - 1 - i);
        for (const vi of order) {
          const x = setups[vi];
          if (!x) continue;
          const phase = `transform-${vi}-max-${round}`;
          const res = await deliveryPhase({
            label: `${x.v.name}, max (${MAX_CLIENTS} clients), round ${round}`,
            phase,
            group: x.group,
            receiver,
            monitor: mon,
            mode: 'max',
            drainTimeoutMs: ctx.d(45_000),
            load: () =>
              closedLoop({
                baseUrl: x.server.baseUrl,
                headers: x.api.headers,
                warmupMs: maxWarmupMs,
                durationMs: maxDurationMs,
                concurrency: MAX_CLIENTS,
                next: (seq) => ({ path: x.target(seq), body: messageBody('invoice.paid', phase, seq) }),
              }),
          });
          rows.push(res.row);
          (maxBy[x.v.name] ??= []).push(res);
          detail.push({ variant: x.v.name, phase, load: res.load, window: res.window, receiver: res.receiver, drained: res.drained, drainMs: res.drainMs, drainPerSec: res.drainPerSec });
          ctx.log(`${x.v.name} max round ${round}: published ${res.load.acceptedPerSec}/s, deliveries ${res.deliveriesPerSec}/s`);
        }
      }
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      for (const x of setups) await x.api.close();
    }

    // Over all rounds: deliveries in the measured windows / the windows' total length.
    const rate = (name: string): number | null => {
      const rs = maxBy[name] ?? [];
      const ms = rs.reduce((a, r) => a + r.load.windowMs, 0);
      return rs.length && ms > 0 ? Math.round((rs.reduce((a, r) => a + (r.deliveriesPerSec * r.load.windowMs) / 1000, 0) / ms) * 1000) : null;
    };
    const plainRate = rate('plain');
    const tfRate = rate('filter + transformation');
    const slowdownPct = plainRate && tfRate !== null ? round2(((plainRate - tfRate) / plainRate) * 100) : null;
    const p99Plain = fixedBy['plain']?.latency?.p99 ?? null;
    const p99Tf = fixedBy['filter + transformation']?.latency?.p99 ?? null;
    const slower = slowdownPct === null ? '—' : slowdownPct >= 0 ? `${slowdownPct} % slower` : `${-slowdownPct} % faster (within noise)`;
    return {
      method: [
        `Two fresh servers (durability full), one per variant, both up for the whole run and loaded one at a time: ${APPS} applications with one endpoint each on the local receiver, which verifies every signature with \`standardwebhooks\`; messages go round-robin to the applications (one delivery per message), as in \`e2e\`.`,
        `"plain": endpoints without filter or transformation. "filter + transformation": each endpoint has the content filter \`${JSON.stringify(FILTER)}\` (it matches every message, so the number of deliveries is the same) and an enabled JavaScript transformation that sets \`payload.transformed = true\` and appends \`/t\` to the URL; the receiver counts only arrivals on the \`/t\` paths, so every delivery counted went through the sandbox, and the signature it verifies covers the transformed body.`,
        `Latency: open loop at ${RATE} msg/s per variant (${warmupMs} ms warm-up tagged apart, then ${durationMs} ms measured). Capacity: ${ROUNDS} rounds per variant of ${MAX_CLIENTS} closed-loop publishers (${maxWarmupMs} ms + ${maxDurationMs} ms), alternating plain / transformed / transformed / plain so that load from elsewhere on the machine hits both alike; each phase waits for its deliveries to drain before the next. "deliveries/s" = first arrivals during the measured window while publishing goes on; "drain/s after" = the drain rate of what was left once publishing stopped.`,
        'Slowdown = (plain - filtered and transformed) / plain, on deliveries/s at maximum rate over all rounds (arrivals in the measured windows / their total length). The filter parses each payload once per message; the transformation is a round trip to the sandbox worker thread per delivery (docs/transformations.md).',
      ],
      config: { apps: APPS, rate: RATE, warmupMs, durationMs, maxClients: MAX_CLIENTS, maxWarmupMs, maxDurationMs, rounds: ROUNDS, filter: FILTER, code: CODE },
      tables: [table('Plain endpoints vs a filter and a transformation on every endpoint (latency in ms)', deliveryColumns('run'), rows)],
      notes: [
        `Deliveries/s at maximum rate over ${ROUNDS} rounds: plain ${plainRate ?? '—'}, with filter and transformation ${tfRate ?? '—'}: ${slower}. p99 at ${RATE}/s: ${p99Plain ?? '—'} ms vs ${p99Tf ?? '—'} ms.`,
      ],
      headline: {
        slowdownPct,
        plainDeliveriesPerSec: plainRate,
        transformedDeliveriesPerSec: tfRate,
        plainP99Ms: p99Plain,
        transformedP99Ms: p99Tf,
      },
      detail,
    };
  },
};

/** Shared by isolation and retry-storm: healthy endpoints' latency beside misbehaving ones. */
import { Api, addEndpoints } from '../lib/api.js';
import { openLoop } from '../loadgen.js';
import { errorsText, messageBody, perSec, type Ctx } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig, RouteMode } from '../lib/protocol.js';

export interface BadEndpoint {
  name: string;
  mode: RouteMode;
  /** Stats group (default: the name); endpoints sharing one are reported together. */
  group?: string;
}

export interface HealthyRunOptions {
  variant: string;
  healthy: number;
  bad: BadEndpoint[];
  ratePerSec: number;
  warmupMs: number;
  durationMs: number;
  retrySchedule?: string;
  /** Put the misbehaving endpoints on a second receiver port (another origin) instead of the healthy ones' port. */
  badOnOwnPort?: boolean;
}

/** Fresh server; one app with healthy + bad endpoints; open-loop publishing; healthy latency. */
export async function healthyRun(ctx: Ctx, o: HealthyRunOptions): Promise<{ row: Row; detail: unknown }> {
  const receiver = await ctx.receiver();
  if (!receiver.port) await receiver.listen();
  const server = await ctx.server({ durability: 'full', ...(o.retrySchedule ? { retrySchedule: o.retrySchedule } : {}) });
  const api = new Api(server.baseUrl);
  const mon = ctx.monitor(server, receiver);
  try {
    const app = await api.createApp(`bench-${ctx.name}-${o.variant}`);
    const healthyPaths = Array.from({ length: o.healthy }, (_, i) => `/${ctx.name}/${o.variant}/healthy/${i}`);
    const badPaths = o.bad.map((b) => `/${ctx.name}/${o.variant}/${b.name}`);
    const badPort = o.badOnOwnPort && badPaths.length ? await receiver.listen(0) : receiver.port;
    const eps = [
      ...(await addEndpoints(api, app, receiver.port, healthyPaths)),
      ...(await addEndpoints(api, app, badPort, badPaths)),
    ];
    const routes: Record<string, RouteConfig> = {};
    for (const ep of eps) {
      const bad = o.bad.find((b) => ep.path.endsWith(`/${b.name}`));
      routes[ep.path] = bad ? { mode: bad.mode, secret: ep.secret, group: bad.group ?? bad.name } : { mode: { kind: 'ok' }, secret: ep.secret, group: 'healthy' };
    }
    await receiver.configure(routes);
    const phase = `${ctx.name}-${o.variant}`;
    await receiver.reset(phase);
    mon.beginWindow();
    const r = await openLoop({
      baseUrl: server.baseUrl,
      headers: api.headers,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      ratePerSec: o.ratePerSec,
      maxInFlight: 256,
      next: (seq, measured) => ({ path: `/api/v1/app/${app}/msg`, body: messageBody('invoice.paid', measured ? phase : `${phase}-warmup`, seq) }),
    });
    const w = mon.endWindow();
    const expected = r.okMeasured * o.healthy;
    const { ok } = await receiver.waitFor((s) => (s.groups['healthy']?.unique ?? 0) >= expected, ctx.d(20_000), 100);
    const stats = await receiver.stats();
    const g = stats.groups['healthy'];
    const badGroups = [...new Set(o.bad.map((b) => b.group ?? b.name))];
    const badText = badGroups
      .map((name) => {
        const bg = stats.groups[name];
        return `${name}: ${bg?.requests ?? 0} req (${perSec(bg?.requests ?? 0, w.durationMs)}/s)`;
      })
      .join('; ');
    const row: Row = {
      variant: o.variant,
      endpoints: `${o.healthy} healthy${badGroups.length ? ` + ${badGroups.map((n) => `${o.bad.filter((b) => (b.group ?? b.name) === n).length} ${n}`).join(', ')}` : ''}${o.badOnOwnPort ? ' (other port)' : badGroups.length ? ' (same port)' : ''}`,
      offered: o.ratePerSec,
      published: r.acceptedPerSec,
      expected,
      arrived: g?.unique ?? 0,
      p50: g?.latency?.p50 ?? null,
      p90: g?.latency?.p90 ?? null,
      p99: g?.latency?.p99 ?? null,
      p999: g?.latency?.p999 ?? null,
      max: g?.latency?.max ?? null,
      bad: badText || '—',
      errors: ok ? errorsText(r.errors) : `${expected - (g?.unique ?? 0)} healthy missing; ${errorsText(r.errors)}`,
      serverCpu: w.procs['server']?.cpuPct ?? null,
      receiverCpu: w.procs['receiver']?.cpuPct ?? null,
      rss: w.procs['server']?.rssMaxMB ?? null,
      otherCpu: w.system?.otherPct ?? null,
    };
    ctx.log(`${o.variant}: healthy p50 ${g?.latency?.p50} p99 ${g?.latency?.p99} max ${g?.latency?.max} ms; ${badText}`);
    return { row, detail: { variant: o.variant, load: r, window: w, receiver: stats.groups, drained: ok } };
  } finally {
    mon.stop();
    ctx.notePeak(mon);
    await api.close();
    await ctx.stopServer(server);
  }
}

export const HEALTHY_COLUMNS: [string, string][] = [
  ['variant', 'variant'],
  ['endpoints', 'endpoints'],
  ['offered', 'msg/s offered'],
  ['published', 'published/s'],
  ['expected', 'healthy expected'],
  ['arrived', 'healthy arrived'],
  ['p50', 'healthy p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['max', 'max'],
  ['bad', 'misbehaving endpoints received'],
  ['errors', 'errors'],
  ['serverCpu', 'server CPU %'],
  ['receiverCpu', 'receiver CPU %'],
  ['rss', 'server RSS MB'],
  ['otherCpu', 'other CPU %'],
];

import { randomBytes } from 'node:crypto';
import { Api, addEndpoints, type Metrics } from '../lib/api.js';
import { closedLoop, openLoop, type LoadResult } from '../loadgen.js';
import { createBenchSchema, BENCH_DATABASE_URL } from '../lib/pg.js';
import { deliveryColumns, deliveryPhase, type DeliveryPhaseResult } from '../lib/phases.js';
import { serverName, messageBody, table, type Ctx, type Scenario } from '../lib/scenario.js';
import type { Receiver, ServerHandle } from '../lib/proc.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';

/** Node counts measured; BENCH_PG_NODES=1,2 (the default) picks others. */
const NODE_COUNTS = (process.env['BENCH_PG_NODES'] ?? '1,2').split(',').map(Number).filter((n) => n > 0);
const APPS = 4;
const RATE = 200;
/** Closed-loop publishers of the maximum phase, spread over the nodes; BENCH_PG_CLIENTS changes it. */
const MAX_CLIENTS = Number(process.env['BENCH_PG_CLIENTS'] ?? 32);
/**
 * The measured phases in order: fixed rates (messages/s) and `max`; BENCH_PG_PHASES=200,940,max
 * measures one more rate. The headline takes the first fixed rate and the maximum.
 */
const PHASES: { label: string; mode: 'fixed' | 'max'; rate: number }[] = (process.env['BENCH_PG_PHASES'] ?? `${RATE},max`)
  .split(',')
  .map((p) => (p === 'max' ? { label: `max (${MAX_CLIENTS} clients)`, mode: 'max', rate: 0 } : { label: `${Number(p)}/s`, mode: 'fixed', rate: Number(p) }));
/** Where the headline's phases are among PHASES (-1 when absent). */
const FIXED_PHASE = PHASES.findIndex((p) => p.mode === 'fixed');
const MAX_PHASE = PHASES.findIndex((p) => p.mode === 'max');
/**
 * Publishes each node accepts in the warm-up before the first measured phase
 * (BENCH_PG_WARM_MESSAGES changes it), bounded by WARM_MAX_MS. A node's hot code is optimised
 * by V8 as it runs: measured too early, a second node pays its compilation (and its slower
 * code) on half the deliveries, which reads as a cost of scaling out.
 */
const WARM_MESSAGES_PER_NODE = Number(process.env['BENCH_PG_WARM_MESSAGES'] ?? 30_000);
const WARM_MAX_MS = 60_000;
/** Connections per node (each node opens one more for notices). */
const POOL = 10;

const DELIVERED = ['switchboard_delivery_attempts_total', { outcome: 'delivered' }] as const;
const ACCEPTED = ['switchboard_messages_accepted_total', {}] as const;

/** Per node: messages accepted and deliveries made between two scrapes, as "a / b" and shares. */
function perNode(before: Metrics[], after: Metrics[]): { accepted: number[]; delivered: number[]; text: string } {
  const accepted = after.map((m, i) => m.sum(...ACCEPTED) - (before[i]?.sum(...ACCEPTED) ?? 0));
  const delivered = after.map((m, i) => m.sum(...DELIVERED) - (before[i]?.sum(...DELIVERED) ?? 0));
  const total = delivered.reduce((a, b) => a + b, 0);
  const text = delivered.map((d) => `${d}${total > 0 && delivered.length > 1 ? ` (${Math.round((d / total) * 100)} %)` : ''}`).join(' / ');
  return { accepted, delivered, text };
}

/**
 * CPU per delivery over a phase, in µs: every node process and every database session
 * serving them (user + system time from /proc), divided by the deliveries made in the same
 * time; also the sessions alone, and with the database server's shared processes (WAL writer,
 * checkpointer, ...) added.
 */
function cpuPerDelivery(res: DeliveryPhaseResult, nodes: number): { cpuUs: number | null; nodeCpuUs: number | null; dbCpuUs: number | null; withSharedCpuUs: number | null } {
  const procs = res.window.procs;
  const pct = (name: string): number => procs[name]?.cpuPct ?? 0;
  let nodePct = 0;
  for (let i = 0; i < nodes; i++) nodePct += pct(serverName(i));
  const perSec = res.deliveriesPerSec;
  if (!perSec) return { cpuUs: null, nodeCpuUs: null, dbCpuUs: null, withSharedCpuUs: null };
  // % of a core -> core-seconds per second -> µs per delivery.
  const us = (p: number): number => Math.round((p / 100 / perSec) * 1e6);
  return { cpuUs: us(nodePct + pct('postgres')), nodeCpuUs: us(nodePct), dbCpuUs: us(pct('postgres')), withSharedCpuUs: us(nodePct + pct('postgres') + pct('pgshared')) };
}


/** The kill run: this many nodes, one killed with SIGKILL (and replaced) every KILL_EVERY_MS. */
const KILL_NODES = 3;
const KILL_EVERY_MS = 10_000;
const KILL_PUBLISHERS = 16;

interface KillResult {
  row: Row;
  lost: number;
  duplicates: number;
  detail: unknown;
}

/**
 * Three nodes under closed-loop load while one of them is killed with SIGKILL every 10 s and
 * a fresh one started in its place. A publish counts as accepted when a node answered 202;
 * one cut off by a kill counts as refused (it may still have committed: its delivery then
 * arrives as well, which is not a loss). Lost = accepted messages that never arrived;
 * the database is also asked, after the drain, for deliveries not delivered.
 */
async function killRun(ctx: Ctx, receiver: Receiver): Promise<KillResult> {
  const durationMs = Math.max(ctx.d(40_000), 2.5 * KILL_EVERY_MS);
  const db = await createBenchSchema();
  const env = {
    SWITCHBOARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SWITCHBOARD_DATABASE_POOL: String(POOL),
    // A dead node's deliveries are due again 7 s after it took them.
    SWITCHBOARD_REQUEST_TIMEOUT_MS: '5000',
    SWITCHBOARD_LEASE_GRACE_MS: '2000',
  };
  let started = 0;
  const start = (): Promise<ServerHandle> => ctx.server({ env: { ...env, SWITCHBOARD_DATABASE_URL: db.url(`k${++started}`) } });
  const nodes: ServerHandle[] = [];
  const apis = new Map<ServerHandle, Api>();
  const apiOf = (n: ServerHandle): Api => {
    let a = apis.get(n);
    if (!a) apis.set(n, (a = new Api(n.baseUrl)));
    return a;
  };
  try {
    nodes.push(await start());
    nodes.push(...(await Promise.all(Array.from({ length: KILL_NODES - 1 }, () => start()))));
    const api = apiOf(nodes[0]!);
    const group = 'pg-kill';
    const appIds: string[] = [];
    const routes: Record<string, RouteConfig> = {};
    for (let i = 0; i < APPS; i++) {
      const app = await api.createApp(`bench-pg-kill-${i}`);
      appIds.push(app);
      for (const ep of await addEndpoints(api, app, receiver.port, [`/pg/kill/${i}`])) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group };
    }
    await receiver.configure(routes);
    await receiver.reset(group);
    let accepted = 0;
    let refused = 0;
    let kills = 0;
    let seq = 0;
    const t0 = Date.now();
    const endAt = t0 + durationMs;
    const publisher = async (w: number): Promise<void> => {
      for (let i = 0; Date.now() < endAt; i++) {
        const node = nodes[(w + i) % nodes.length]!;
        const n = seq++;
        try {
          await apiOf(node).call('POST', `/api/v1/app/${appIds[n % appIds.length] ?? ''}/msg`, JSON.parse(messageBody('invoice.paid', group, n)) as unknown);
          accepted++;
        } catch {
          refused++;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const killer = async (): Promise<void> => {
      while (Date.now() + KILL_EVERY_MS < endAt) {
        await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
        const victim = nodes[kills % nodes.length]!;
        victim.proc.kill('SIGKILL');
        kills++;
        nodes.splice(nodes.indexOf(victim), 1);
        ctx.log(`kill run: killed ${victim.baseUrl} at ${Math.round((Date.now() - t0) / 1000)} s (${accepted} accepted so far)`);
        const gone = apis.get(victim);
        apis.delete(victim);
        // The replacement starts while the clock runs on: kills stay 10 s apart however long a start takes.
        replacements.push(
          (async () => {
            await gone?.close();
            await ctx.stopServer(victim);
            nodes.push(await start());
          })(),
        );
      }
    };
    const replacements: Promise<void>[] = [];
    await Promise.all([...Array.from({ length: KILL_PUBLISHERS }, (_, w) => publisher(w)), killer()]);
    const loadMs = Date.now() - t0;
    await Promise.all(replacements);
    const drainMs = Math.max(ctx.d(120_000), 60_000);
    const drain = await receiver.waitFor((st) => (st.groups[group]?.unique ?? 0) >= accepted, drainMs, 250);
    // Then until the database has every delivery delivered (a dead node's last attempts are
    // sent again once their leases run out), so late duplicates are counted too.
    const undeliveredNow = async (): Promise<{ statuses: Record<number, number>; undelivered: number }> => {
      const statuses = await db.deliveryStatusCounts();
      return { statuses, undelivered: Object.entries(statuses).reduce((a, [st, n]) => a + (Number(st) === 0 ? 0 : n), 0) };
    };
    let { statuses, undelivered } = await undeliveredNow();
    for (const until = Date.now() + drainMs; undelivered > 0 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      ({ statuses, undelivered } = await undeliveredNow());
    }
    const g = (await receiver.stats()).groups[group];
    const arrived = g?.unique ?? 0;
    const lost = Math.max(0, accepted - arrived);
    const duplicates = g?.duplicates ?? 0;
    ctx.log(`kill run: ${kills} kills, ${accepted} accepted, ${refused} refused, ${arrived} arrived, ${lost} lost, ${duplicates} duplicates, ${undelivered} undelivered in the database`);
    const row: Row = {
      label: `${KILL_NODES} nodes, kill -9 every ${KILL_EVERY_MS / 1000} s`,
      kills,
      accepted,
      acceptedPerSec: Math.round((accepted / loadMs) * 1000),
      refused,
      arrived,
      lost,
      dup: duplicates,
      undelivered,
      badSig: g?.verifyFailed ?? 0,
    };
    return { row, lost, duplicates, detail: { kills, accepted, refused, arrived, lost, duplicates, undelivered, statuses, loadMs, drained: drain.ok } };
  } finally {
    for (const a of apis.values()) await a.close();
    for (const n of nodes) await ctx.stopServer(n);
    await db.drop();
  }
}

export const postgres: Scenario = {
  name: 'postgres',
  title: 'PostgreSQL: end-to-end throughput with 1 and 2 nodes (publish spread over the nodes)',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(6000);
    const maxWarmupMs = ctx.d(3000);
    const maxDurationMs = ctx.d(10_000);
    const receiver = await ctx.receiver();
    await receiver.listen();
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const headline: Record<string, number | null> = {};
    let lost = 0;
    let duplicates = 0;
    let badSig = 0;
    const schemas: string[] = [];

    for (const nodes of NODE_COUNTS) {
      const db = await createBenchSchema();
      schemas.push(db.schema);
      const servers: ServerHandle[] = [];
      const apis: Api[] = [];
      let mon: ReturnType<typeof ctx.monitor> | null = null;
      try {
        // Every node shares the admin token (set by the harness) and the key that seals endpoint secrets.
        const env = { SWITCHBOARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'), SWITCHBOARD_DATABASE_POOL: String(POOL) };
        // The first node migrates the schema; the others start once it is ready.
        servers.push(await ctx.server({ env: { ...env, SWITCHBOARD_DATABASE_URL: db.url('n1') } }));
        const rest = await Promise.all(Array.from({ length: nodes - 1 }, (_, i) => ctx.server({ env: { ...env, SWITCHBOARD_DATABASE_URL: db.url(`n${i + 2}`) } })));
        servers.push(...rest);
        for (const s of servers) apis.push(new Api(s.baseUrl));
        const api = apis[0] as Api;
        const group = `pg-${nodes}`;
        const appIds: string[] = [];
        const routes: Record<string, RouteConfig> = {};
        for (let i = 0; i < APPS; i++) {
          const app = await api.createApp(`bench-pg-${nodes}-${i}`);
          appIds.push(app);
          for (const ep of await addEndpoints(api, app, receiver.port, [`/pg/${nodes}/${i}`])) routes[ep.path] = { mode: { kind: 'ok' }, secret: ep.secret, group };
        }
        await receiver.configure(routes);
        const target = (seq: number): string => `/api/v1/app/${appIds[seq % appIds.length] ?? ''}/msg`;
        const baseUrls = servers.map((s) => s.baseUrl);
        // Publishes alternate between the nodes (request n to node n mod nodes); the application
        // advances once per round of nodes, so each node publishes to every application.
        const appOf = (seq: number): string => target(Math.floor(seq / nodes));

        // Warm-up, not measured: fills every node's connection pool (their database sessions are then
        // tracked as "postgres" CPU), warms caches, and runs until every node has accepted
        // WARM_MESSAGES_PER_NODE publishes, so each node's code is compiled as far as it will be
        // before anything is measured, whatever the node count. Its deliveries drain before measuring.
        const warm = `pg-${nodes}-warm`;
        await receiver.reset(warm);
        const warmUntil = Date.now() + ctx.d(WARM_MAX_MS);
        const warmTarget = Math.round(WARM_MESSAGES_PER_NODE * Math.min(1, ctx.scale));
        const warmedPerNode = servers.map(() => 0);
        let warmSeq = 0;
        let warmTotal = 0;
        let w0: LoadResult;
        do {
          const from = warmSeq;
          w0 = await closedLoop({ baseUrl: baseUrls, headers: api.headers, warmupMs: 0, durationMs: ctx.d(3000), concurrency: MAX_CLIENTS, next: (seq) => ({ path: appOf(seq), body: messageBody('invoice.paid', warm, from + seq) }) });
          warmSeq += w0.sent;
          warmTotal += w0.okTotal;
          for (const [i, n] of w0.okByServer.entries()) warmedPerNode[i] = (warmedPerNode[i] ?? 0) + n;
        } while (Math.min(...warmedPerNode) < warmTarget && Date.now() < warmUntil);
        await receiver.waitFor((s) => (s.groups[group]?.unique ?? 0) >= warmTotal, ctx.d(30_000), 250);
        const backends: { name: string; pid: number }[] = [];
        for (const [i] of servers.entries()) for (const pid of await db.backendPids(`n${i + 1}`)) backends.push({ name: 'postgres', pid });
        for (const pid of await db.sharedPids()) backends.push({ name: 'pgshared', pid });
        ctx.log(`${nodes} node(s): warm-up published ${warmedPerNode.join(' / ')} (last ${w0.acceptedPerSec}/s); ${backends.filter((b) => b.name === 'postgres').length} database sessions`);
        mon = ctx.monitor(servers, receiver, backends);
        const m = mon;

        const results: DeliveryPhaseResult[] = [];
        for (const p of PHASES) {
          const phase = `pg-${nodes}-${p.mode}${p.mode === 'fixed' ? `-${p.rate}` : ''}`;
          const before = await Promise.all(apis.map((a) => a.metrics()));
          const res = await deliveryPhase({
            label: `${nodes} node${nodes > 1 ? 's' : ''}, ${p.label}`,
            phase,
            group,
            receiver,
            monitor: m,
            mode: p.mode,
            drainTimeoutMs: ctx.d(p.mode === 'max' ? 60_000 : 30_000),
            load: () =>
              p.mode === 'fixed'
                ? openLoop({
                    baseUrl: baseUrls,
                    headers: api.headers,
                    warmupMs,
                    durationMs,
                    ratePerSec: p.rate,
                    maxInFlight: 256,
                    next: (seq, measured) => ({ path: appOf(seq), body: messageBody('invoice.paid', measured ? phase : `${phase}-warmup`, seq) }),
                  })
                : closedLoop({
                    baseUrl: baseUrls,
                    headers: api.headers,
                    warmupMs: maxWarmupMs,
                    durationMs: maxDurationMs,
                    concurrency: MAX_CLIENTS,
                    next: (seq) => ({ path: appOf(seq), body: messageBody('invoice.paid', phase, seq) }),
                  }),
          });
          const after = await Promise.all(apis.map((a) => a.metrics()));
          const share = perNode(before, after);
          res.row['perNodeDelivered'] = share.text;
          res.row['perNodePublished'] = res.load.okByServer.join(' / ');
          for (const [i] of servers.entries()) res.row[`nodeCpu${i}`] = res.row[`cpu_${serverName(i)}`] ?? null;
          const cost = cpuPerDelivery(res, servers.length);
          Object.assign(res.row, cost);
          rows.push(res.row);
          results.push(res);
          lost += Math.max(0, res.expected - (res.receiver?.unique ?? 0));
          duplicates += res.receiver?.duplicates ?? 0;
          badSig += res.receiver?.verifyFailed ?? 0;
          detail.push({ nodes, phase, load: res.load, window: res.window, receiver: res.receiver, drained: res.drained, drainMs: res.drainMs, drainPerSec: res.drainPerSec, perNode: share });
          ctx.log(
            `${nodes} node(s) ${p.label}: published ${res.load.acceptedPerSec}/s, deliveries ${res.deliveriesPerSec}/s, p50 ${res.latency?.p50 ?? '—'} p99 ${res.latency?.p99 ?? '—'} ms, per node ${share.text}`,
          );
        }
        const fixed = results[FIXED_PHASE];
        const max = results[MAX_PHASE];
        headline[`deliveriesPerSec${nodes}Node`] = max?.deliveriesPerSec ?? null;
        headline[`publishedPerSec${nodes}Node`] = max?.load.acceptedPerSec ?? null;
        headline[`drainPerSec${nodes}Node`] = max?.drainPerSec ?? null;
        headline[`p99At${PHASES[FIXED_PHASE]?.rate ?? RATE}Ms${nodes}Node`] = fixed?.latency?.p99 ?? null;
        headline[`cpuPerDeliveryUs${nodes}Node`] = (max?.row['cpuUs'] as number | null | undefined) ?? null;
        headline[`dbCpuPerDeliveryUs${nodes}Node`] = (max?.row['dbCpuUs'] as number | null | undefined) ?? null;
      } finally {
        if (mon) {
          mon.stop();
          ctx.notePeak(mon);
        }
        for (const a of apis) await a.close();
        for (const s of servers) await ctx.stopServer(s);
        await db.drop();
      }
    }
    headline['lostOrDuplicated'] = lost + duplicates + badSig;
    const killRows: Row[] = [];
    if (process.env['BENCH_PG_KILL'] !== '0') {
      const k = await killRun(ctx, receiver);
      killRows.push(k.row);
      detail.push({ kill: k.detail });
      headline['killRunLost'] = k.lost;
      headline['killRunDuplicates'] = k.duplicates;
    }
    const one = headline['deliveriesPerSec1Node'];
    const two = headline['deliveriesPerSec2Node'];

    return {
      method: [
        `PostgreSQL at ${BENCH_DATABASE_URL.replace(/\/\/[^@/]*@/, '//')} (same machine). Per node count (${NODE_COUNTS.join(', ')}): a fresh schema, dropped afterwards; nodes are \`switchboard serve\` processes (role all) with \`SWITCHBOARD_DATABASE_URL\` on that schema, \`SWITCHBOARD_DATABASE_POOL=${POOL}\`, one shared encryption key and admin token, each its own data directory. The first node migrates the schema; the second starts once it is up.`,
        `${APPS} applications with one endpoint each on the local receiver (verifying every signature with \`standardwebhooks\`); publishes alternate between the nodes (undici pool per node) and round-robin over the applications, so each message is one delivery, made by whichever node leases or claims it.`,
        `A closed-loop warm-up (not measured, drained before measuring), in rounds of 3 s until every node has accepted ${WARM_MESSAGES_PER_NODE} publishes (at most ${WARM_MAX_MS / 1000} s), opens every node's database connections and lets V8 optimise each node's hot code as far as it will, so no node count is measured while its nodes still compile; those sessions (found by \`application_name\` in \`pg_stat_activity\`) are sampled as "postgres CPU". The database's background processes (WAL writer, checkpointer) are not attributed and count as other CPU.`,
        `Phases: ${PHASES.map((p) => p.label).join(', ')}. Fixed rate: open loop, ${warmupMs} ms warm-up (tagged apart) + ${durationMs} ms measured, for publish-to-arrival latency. Maximum: ${MAX_CLIENTS} closed-loop publishers over all nodes, ${maxWarmupMs} ms + ${maxDurationMs} ms; "deliveries/s" = first arrivals during the measured window; "drain/s after" = the rate at which the backlog drains once publishing stops (bounded wait).`,
        'CPU per delivery: user + system CPU time (from /proc/<pid>/stat) of every node process and every database session serving the nodes over the phase (load warm-up included), divided by deliveries/s × the same time; "db µs" is the sessions alone; "+shared µs" adds the database server\'s own processes (WAL writer, background writer, checkpointer, autovacuum), which serve every database on the server and so also count other work on it. The receiver and the load generator are not counted.',
        'Per node: "published" = publishes each node accepted (load generator count); "delivered" = successful delivery attempts each node made during the phase, from the `switchboard_delivery_attempts_total{outcome="delivered"}` counter of its `/metrics`. "dup" = deliveries that arrived more than once (same webhook-id), which should stay 0.',
      ],
      config: { nodeCounts: NODE_COUNTS, apps: APPS, rate: RATE, warmupMs, durationMs, maxClients: MAX_CLIENTS, maxWarmupMs, maxDurationMs, pool: POOL, schemas },
      tables: [
        table(
          'PostgreSQL: end-to-end with 1 and 2 nodes (latency in ms)',
          deliveryColumns(
            'nodes, load',
            [
              ['perNodePublished', 'published per node'],
              ['perNodeDelivered', 'delivered per node'],
            ],
            [
              ['nodeCpu0', 'node 1 CPU %'],
              ['nodeCpu1', 'node 2 CPU %'],
              ['cpu_postgres', 'postgres CPU %'],
              ['cpu_pgshared', 'pg shared CPU %'],
              ['cpuUs', 'CPU µs/delivery'],
              ['nodeCpuUs', 'node µs'],
              ['dbCpuUs', 'db µs'],
              ['withSharedCpuUs', '+shared µs'],
              ['cpu_receiver', 'receiver CPU %'],
              ['cpu_loadgen', 'loadgen CPU %'],
            ],
          ),
          rows,
        ),
        table(
          'PostgreSQL: nodes killed under load (kill -9, replaced by a fresh node)',
          [
            ['label', 'nodes'],
            ['kills', 'kills'],
            ['accepted', 'accepted'],
            ['acceptedPerSec', 'accepted/s'],
            ['refused', 'refused (node gone)'],
            ['arrived', 'arrived'],
            ['lost', 'lost'],
            ['dup', 'dup'],
            ['undelivered', 'undelivered in db'],
            ['badSig', 'bad sig'],
          ],
          killRows,
        ),
      ],
      notes: [
        `Sustained deliveries/s at maximum rate: 1 node ${one ?? '—'}, 2 nodes ${two ?? '—'}${one && two ? ` (${Math.round((two / one) * 100) / 100}×)` : ''}. Lost: ${lost}, duplicated: ${duplicates}, bad signatures: ${badSig}.`,
        `CPU per delivery at maximum rate (nodes + their database sessions): 1 node ${headline['cpuPerDeliveryUs1Node'] ?? '—'} µs (database ${headline['dbCpuPerDeliveryUs1Node'] ?? '—'} µs), 2 nodes ${headline['cpuPerDeliveryUs2Node'] ?? '—'} µs (database ${headline['dbCpuPerDeliveryUs2Node'] ?? '—'} µs).`,
        `Kill run (BENCH_PG_KILL=0 skips it): ${KILL_NODES} nodes (request timeout 5 s, lease grace 2 s), ${KILL_PUBLISHERS} closed-loop publishers spread over the live nodes, one node killed with SIGKILL every ${KILL_EVERY_MS / 1000} s and a fresh one started; "lost" = accepted (202) messages that never arrived after the drain, "dup" = arrivals of a webhook-id seen before (a dead node's deliveries in flight are sent again by design), "undelivered in db" = deliveries not delivered after the drain (including those of publishes refused mid-request that had committed).`,
        'On this machine the database, the nodes, the receiver and the load generator share 2 cores: a second node adds a process, not capacity; the comparison shows the cost of coordination (leases, row locks, notices) rather than scale-out.',
      ],
      headline,
      detail,
    };
  },
};

/**
 * Readers never slow writers: 200 SSE streams and 50 long polls are open on one application
 * while messages are published open-loop at 500/s. Measures what the readers cost the
 * publishers (publish latency, accepted rate, server CPU) and checks that every reader got
 * every message of the measured window, once.
 */
import { Api } from '../lib/api.js';
import { openLoop } from '../loadgen.js';
import { ADMIN_TOKEN, type Puller } from '../lib/proc.js';
import type { PullerStats, PullGroupStats } from '../lib/protocol.js';
import { errorsText, messageBody, table, type Scenario } from '../lib/scenario.js';
import { windowColumns } from '../lib/phases.js';
import type { Row } from '../lib/report.js';

/** Publishes per second offered; BENCH_READERS_RATE overrides it (e.g. a lower rate to compare CPU per message on a busy machine). */
const RATE = Number(process.env['BENCH_READERS_RATE'] ?? '500');
/** Readers of each kind; BENCH_READERS_SSE and BENCH_READERS_POLLS override them (to see what each kind costs). */
const SSE_READERS = Number(process.env['BENCH_READERS_SSE'] ?? '200');
const LONG_POLLS = Number(process.env['BENCH_READERS_POLLS'] ?? '50');
/** SSE readers per client process (the parsing is spread over processes). */
const SSE_PER_PROCESS = 100;
const PHASE = 'readers';

const sseGroup = (i: number): string => `sse-${i}`;
const pollGroup = (i: number): string => `poll-${i}`;

/** Per-reader counts of one kind: fewest and most first arrivals, duplicates, errors, readers short of `expected`. */
function readerCounts(stats: PullerStats[], names: string[], expected: number) {
  const groups = names.map((n) => stats.map((s) => s.groups[n]).find((g): g is PullGroupStats => g !== undefined));
  const unique = groups.map((g) => g?.unique ?? 0);
  const errors: Record<string, number> = {};
  for (const g of groups) for (const [k, v] of Object.entries(g?.errors ?? {})) errors[k] = (errors[k] ?? 0) + v;
  return {
    readers: names.length,
    min: unique.length ? Math.min(...unique) : 0,
    max: unique.length ? Math.max(...unique) : 0,
    short: unique.filter((u) => u < expected).length,
    duplicates: groups.reduce((a, g) => a + (g?.duplicates ?? 0), 0),
    fromSendP99Max: Math.max(0, ...groups.map((g) => g?.latency?.p99 ?? 0)),
    errors,
  };
}

export const readers: Scenario = {
  name: 'readers',
  title: `Readers never slow writers: ${RATE} msg/s published with ${SSE_READERS} SSE streams and ${LONG_POLLS} long polls open`,
  async run(ctx) {
    const warmupMs = ctx.d(3000);
    const durationMs = ctx.d(15_000);
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const pullers: Puller[] = [];
    const sseProcesses = Math.max(1, Math.ceil(SSE_READERS / SSE_PER_PROCESS));
    for (let i = 0; i < sseProcesses + 1; i++) pullers.push(await ctx.puller());
    const mon = ctx.monitor(
      server,
      null,
      pullers.map((p) => ({ name: 'puller', pid: p.pid })),
    );
    try {
      const app = await api.createApp('bench-readers');
      const pe = await api.call<{ id: string }>('POST', `/api/v1/app/${app}/polling-endpoint`, { description: 'bench readers' });
      const { token } = await api.call<{ token: string }>('GET', `/api/v1/auth/app/${app}/poller/${pe.id}/token`);
      const sseNames: string[] = [];
      const pollNames: string[] = [];
      const starts: Promise<unknown>[] = [];
      for (let i = 0; i < SSE_READERS; i++) {
        sseNames.push(sseGroup(i));
        const p = pullers[Math.floor(i / SSE_PER_PROCESS)]!;
        starts.push(p.start({ kind: 'sse', group: sseGroup(i), baseUrl: server.baseUrl, path: `/api/v1/app/${app}/msg/stream`, token: ADMIN_TOKEN }));
      }
      const pollProcess = pullers[sseProcesses]!;
      for (let i = 0; i < LONG_POLLS; i++) {
        pollNames.push(pollGroup(i));
        starts.push(pollProcess.start({ kind: 'long-poll', group: pollGroup(i), baseUrl: server.baseUrl, path: `/api/v1/app/${app}/poller/${pe.id}`, token, waitSec: 30, limit: 250 }));
      }
      await Promise.all(starts);
      const readersOpen = (await api.metrics()).sum('switchboard_open_connections', { kind: 'sse' });
      ctx.log(`${SSE_READERS} SSE streams (${readersOpen} held by the server) and ${LONG_POLLS} long polls open`);
      await Promise.all(pullers.map((p) => p.reset(PHASE)));

      mon.beginWindow();
      const load = await openLoop({
        baseUrl: server.baseUrl,
        headers: api.headers,
        warmupMs,
        durationMs,
        ratePerSec: RATE,
        maxInFlight: 1024,
        next: (seq, measured) => ({ path: `/api/v1/app/${app}/msg`, body: messageBody('invoice.paid', measured ? PHASE : `${PHASE}-warmup`, seq) }),
      });
      const w = mon.endWindow();
      const expected = load.okMeasured;
      const everyone = (all: PullerStats[]): boolean => [...sseNames, ...pollNames].every((n) => all.some((s) => (s.groups[n]?.unique ?? 0) >= expected));
      const t0 = performance.now();
      let all = await Promise.all(pullers.map((p) => p.stats(true)));
      while (!everyone(all) && performance.now() - t0 < ctx.d(30_000)) {
        await new Promise((r) => setTimeout(r, 200));
        all = await Promise.all(pullers.map((p) => p.stats(true)));
      }
      const caughtUpMs = Math.round(performance.now() - t0);
      all = await Promise.all(pullers.map((p) => p.stats(false)));
      const sse = readerCounts(all, sseNames, expected);
      const polls = readerCounts(all, pollNames, expected);
      const kinds = [sse, polls].filter((k) => k.readers > 0);
      const everyReaderGotAll = sse.short === 0 && polls.short === 0 && sse.duplicates === 0 && polls.duplicates === 0;

      const serverCpu = w.procs['server']?.cpuPct ?? null;
      // Server CPU over the whole load (warm-up included) per message accepted in it.
      const cpuMsPerMessage = serverCpu !== null && load.okTotal > 0 ? Math.round(((serverCpu / 100) * w.durationMs * 100) / load.okTotal) / 100 : null;
      const row: Row = {
        offered: RATE,
        accepted: load.acceptedPerSec,
        p50: load.latency.p50,
        p99: load.latency.p99,
        max: load.latency.max,
        errors: errorsText(load.errors),
        expected,
        sseMin: sse.min,
        sseMax: sse.max,
        pollMin: polls.min,
        pollMax: polls.max,
        dup: sse.duplicates + polls.duplicates,
        short: sse.short + polls.short,
        caughtUpMs,
        readerErrors: errorsText({ ...sse.errors, ...polls.errors }),
        sseFromSendP99: sse.fromSendP99Max,
        pollFromSendP99: polls.fromSendP99Max,
        ...windowColumns(w),
        cpuMsPerMessage,
      };
      ctx.log(
        `publish ${load.acceptedPerSec}/s of ${RATE}/s, p50 ${load.latency.p50} p99 ${load.latency.p99} max ${load.latency.max} ms; ` +
          `SSE per reader ${sse.min}..${sse.max}, long polls ${polls.min}..${polls.max} of ${expected}; server CPU ${String(serverCpu)} %, ${String(cpuMsPerMessage)} ms per message`,
      );
      return {
        method: [
          `A fresh server (durability full, SQLite) with one application and one polling endpoint. ${SSE_READERS} SSE streams on \`GET /api/v1/app/{app}/msg/stream\` (admin token; ${sseProcesses} client processes, each event parsed) and ${LONG_POLLS} long polls in a loop on \`GET /api/v1/app/{app}/poller/{id}?wait=30&limit=250&iterator=<previous>\` (poller token; one client process) are opened first.`,
          `Then open-loop publishing at ${RATE} msg/s (\`POST /api/v1/app/{app}/msg\`, ~400-byte payloads, at most 1024 in flight): ${warmupMs} ms warm-up (tagged apart, not counted) then ${durationMs} ms measured. Publish latency is send to end of the 202 answer for requests started in the measured window; accepted/s counts 2xx answers completed in it.`,
          `Afterwards the readers get up to ${ctx.d(30_000)} ms to catch up; every reader counts the distinct measured messages it received (and duplicates). "every message" holds when each of the ${SSE_READERS + LONG_POLLS} readers has all ${'`expected`'} (the 2xx answers to measured publishes) and none has a duplicate. "from send p99" is the worst reader's p99 of arrival minus the publisher's send time.`,
        ],
        config: { rate: RATE, sseReaders: SSE_READERS, longPolls: LONG_POLLS, warmupMs, durationMs },
        tables: [
          table(
            `Publishing at ${RATE} msg/s with ${SSE_READERS} SSE + ${LONG_POLLS} long polls open`,
            [
              ['offered', 'msg/s offered'],
              ['accepted', 'accepted/s'],
              ['p50', 'publish p50'],
              ['p99', 'publish p99'],
              ['max', 'publish max'],
              ['errors', 'publish errors'],
              ['expected', 'expected per reader'],
              ['sseMin', 'SSE min'],
              ['sseMax', 'SSE max'],
              ['pollMin', 'long poll min'],
              ['pollMax', 'long poll max'],
              ['dup', 'dup'],
              ['short', 'readers short'],
              ['caughtUpMs', 'catch-up ms'],
              ['readerErrors', 'reader errors'],
              ['sseFromSendP99', 'SSE from send p99'],
              ['pollFromSendP99', 'poll from send p99'],
              ['serverCpu', 'server CPU %'],
              ['cpuMsPerMessage', 'server CPU ms per message'],
              ['cpu_puller', 'readers CPU %'],
              ['cpu_loadgen', 'loadgen CPU %'],
              ['rss', 'server RSS MB'],
              ['otherCpu', 'other CPU %'],
            ],
            [row],
          ),
        ],
        notes: sse.errors['ended'] ? [`SSE streams ended by the server ${sse.errors['ended']} times (the readers reconnected with Last-Event-ID).`] : [],
        headline: {
          publishP50Ms: load.latency.p50,
          publishP99Ms: load.latency.p99,
          acceptedPerSec: load.acceptedPerSec,
          readerMinMessages: Math.min(...kinds.map((k) => k.min)),
          readerMaxMessages: Math.max(...kinds.map((k) => k.max)),
          expectedPerReader: expected,
          everyReaderGotEveryMessage: everyReaderGotAll ? 1 : 0,
          serverCpuPct: serverCpu,
          serverCpuMsPerMessage: cpuMsPerMessage,
        },
        detail: { load, window: w, sse, polls, caughtUpMs },
      };
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await Promise.all(pullers.map((p) => p.close().catch(() => undefined)));
      await api.close();
      await ctx.stopServer(server);
    }
  },
};

import { readFileSync } from 'node:fs';
import { Api, type Metrics } from '../lib/api.js';
import { openLoop } from '../loadgen.js';
import { LatencyHistogram } from '../lib/hist.js';
import { readRssMB, round1 } from '../lib/monitor.js';
import { ADMIN_TOKEN, sleep, type Puller } from '../lib/proc.js';
import type { PullJob } from '../lib/protocol.js';
import { errorsText, messageBody, perSec, round2, table, type Scenario } from '../lib/scenario.js';
import { windowColumns } from '../lib/phases.js';
import type { Row } from '../lib/report.js';

const RATE = 500;
const IDLE_CONNECTIONS = 10_000;
/** Idle connections per client process, at most (each needs a file descriptor). */
const IDLE_PER_PROCESS = 5_000;
/** Idle connections being opened at once, per client process. */
const IDLE_CONCURRENCY = 50;

/** This process's open-files limit (soft), from /proc; null elsewhere. */
function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const heapMB = (m: Metrics): number => round1((m.sum('nodejs_heap_size_used_bytes') + m.sum('nodejs_external_memory_bytes')) / 1024 / 1024);
const openStreams = (m: Metrics): number => m.sum('switchboard_open_connections', { kind: 'sse' });

export const pull: Scenario = {
  name: 'pull',
  title: 'Pull: long-poll and SSE publish-to-consumer latency, memory of 10,000 idle SSE connections',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(8000);
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const headline: Record<string, number | null> = {};
    const notes: string[] = [];

    // 1) Latency: one reader at a time while messages are published at a fixed rate.
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const reader = await ctx.puller();
    const mon = ctx.monitor(server, null, [{ name: 'puller', pid: reader.pid }]);
    try {
      const app = await api.createApp('bench-pull');
      const pe = await api.call<{ id: string }>('POST', `/api/v1/app/${app}/polling-endpoint`, { description: 'bench' });
      const { token } = await api.call<{ token: string }>('GET', `/api/v1/auth/app/${app}/poller/${pe.id}/token`);
      const base = { baseUrl: server.baseUrl };
      const consumer = (c: string): string => `/api/v1/app/${app}/poller/${pe.id}/consumer/${c}`;
      const readers: { label: string; reads: string; consumer?: string; job: PullJob }[] = [
        {
          label: 'long poll (consumer, wait=30)',
          reads: 'GET .../poller/{id}/consumer/{c}?wait=30&limit=250&iterator=<previous>, poller token',
          consumer: 'bench-long-poll',
          job: { kind: 'long-poll', group: 'long-poll', ...base, path: consumer('bench-long-poll'), token, waitSec: 30, limit: 250 },
        },
        {
          label: 'SSE message stream',
          reads: 'GET /api/v1/app/{app}/msg/stream, admin token',
          job: { kind: 'sse', group: 'sse', ...base, path: `/api/v1/app/${app}/msg/stream`, token: ADMIN_TOKEN },
        },
        {
          label: 'SSE consumer stream',
          reads: 'GET .../poller/{id}/consumer/{c}/stream, poller token',
          consumer: 'bench-sse',
          job: { kind: 'sse', group: 'sse-consumer', ...base, path: `${consumer('bench-sse')}/stream`, token },
        },
      ];
      const p99s: number[] = [];
      for (const r of readers) {
        const phase = `pull-${r.job.group}`;
        await reader.close();
        // A new consumer starts at the oldest retained message: move it to now, past earlier phases' messages.
        if (r.consumer) await api.call('POST', `${consumer(r.consumer)}/seek`, { after: new Date().toISOString() });
        await reader.start(r.job);
        await reader.reset(phase);
        // When each measured publish was answered (its 202), by the message's seq.
        const answeredAt = new Map<number, number>();
        mon.beginWindow();
        const load = await openLoop({
          baseUrl: server.baseUrl,
          headers: api.headers,
          warmupMs,
          durationMs,
          ratePerSec: RATE,
          maxInFlight: 256,
          next: (seq, measured) => ({
            path: `/api/v1/app/${app}/msg`,
            body: messageBody('invoice.paid', measured ? phase : `${phase}-warmup`, seq),
            onAnswer: measured ? (at) => answeredAt.set(seq, at) : undefined,
          }),
        });
        const w = mon.endWindow();
        const t0 = performance.now();
        const { ok } = await reader.waitFor((s) => (s.groups[r.job.group]?.unique ?? 0) >= load.okMeasured, ctx.d(20_000));
        const waitedMs = performance.now() - t0;
        const st = await reader.stats(false, true);
        const g = st.groups[r.job.group];
        const fromSend = g?.latency && g.latency.count > 0 ? g.latency : null;
        // The pull path alone: from the publisher having its 202 to the reader having the message.
        const after202 = new LatencyHistogram();
        let beforeAnswer = 0;
        const arrivals = g?.arrivals ?? [];
        for (let i = 0; i + 1 < arrivals.length; i += 2) {
          const answered = answeredAt.get(arrivals[i] ?? -1);
          if (answered === undefined) continue;
          const d = (arrivals[i + 1] ?? 0) - answered;
          if (d < 0) beforeAnswer++;
          after202.recordMs(d);
        }
        if (g) delete g.arrivals;
        const lat = after202.count > 0 ? after202.summary() : null;
        if (lat) p99s.push(lat.p99);
        const key = r.job.group === 'long-poll' ? 'longPoll' : r.job.group === 'sse' ? 'sse' : 'sseConsumer';
        headline[`${key}P99Ms`] = lat?.p99 ?? null;
        headline[`${key}FromSendP99Ms`] = fromSend?.p99 ?? null;
        const arrived = g?.unique ?? 0;
        rows.push({
          reader: r.label,
          offered: RATE,
          published: load.acceptedPerSec,
          publishP99: load.latency.p99,
          expected: load.okMeasured,
          arrived,
          p50: lat?.p50 ?? null,
          p90: lat?.p90 ?? null,
          p99: lat?.p99 ?? null,
          p999: lat?.p999 ?? null,
          max: lat?.max ?? null,
          beforeAnswer,
          sendP50: fromSend?.p50 ?? null,
          sendP99: fromSend?.p99 ?? null,
          sendMax: fromSend?.max ?? null,
          reads: g && r.job.kind === 'long-poll' ? perSec(g.reads, w.durationMs) : null,
          dup: g?.duplicates ?? 0,
          errors: `${errorsText(load.errors)}; reader ${errorsText(g?.errors ?? {})}${ok ? '' : `; ${load.okMeasured - arrived} missing after ${Math.round(waitedMs)} ms`}`,
          ...windowColumns(w),
        });
        detail.push({ reader: r.label, reads: r.reads, load, window: w, pull: g, after202: lat, beforeAnswer, allArrived: ok, waitedMs });
        ctx.log(`${r.label}: after the 202 p50 ${lat?.p50} p99 ${lat?.p99} max ${lat?.max} ms; from send p99 ${fromSend?.p99} ms (${arrived}/${load.okMeasured})`);
      }
      await reader.close();
      headline['p99Ms'] = p99s.length === readers.length ? Math.max(...p99s) : null;
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await api.close();
      await ctx.stopServer(server);
    }

    // 2) Memory: a fresh server, N idle SSE connections from separate client processes.
    const limit = openFilesLimit();
    const perProcess = Math.max(100, Math.min(IDLE_PER_PROCESS, (limit ?? IDLE_PER_PROCESS + 200) - 200));
    const processes = Math.ceil(IDLE_CONNECTIONS / perProcess);
    // Every connection comes from 127.0.0.1 here: past the stream budget (half the file
    // descriptors) streams count as ordinary connections, which one address may hold only 512 of.
    const idleServer = await ctx.server({ durability: 'full', env: { SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS: '0' } });
    const idleApi = new Api(idleServer.baseUrl);
    const clients: Puller[] = [];
    for (let i = 0; i < processes; i++) clients.push(await ctx.puller());
    const idleMon = ctx.monitor(
      idleServer,
      null,
      clients.map((c) => ({ name: 'puller', pid: c.pid })),
    );
    let memRow: Row | null = null;
    try {
      const app = await idleApi.createApp('bench-pull-idle');
      const job = (count: number): PullJob => ({
        kind: 'idle-sse',
        group: 'idle',
        baseUrl: idleServer.baseUrl,
        path: `/api/v1/app/${app}/msg/stream`,
        token: ADMIN_TOKEN,
        count,
        concurrency: IDLE_CONCURRENCY,
      });
      // Warm the stream path (code compiled, buffers pooled) before the baseline.
      await clients[0]?.start(job(200), 60_000);
      await clients[0]?.close();
      await sleep(2000);
      const rssBefore = readRssMB(idleServer.pid);
      const mBefore = await idleApi.metrics();

      idleMon.beginWindow();
      const t0 = performance.now();
      const opened = await Promise.all(
        clients.map((c, i) => c.start(job(Math.min(perProcess, IDLE_CONNECTIONS - i * perProcess)), 180_000)),
      );
      const openMs = performance.now() - t0;
      const openWindow = idleMon.endWindow();
      const open = opened.reduce((a, o) => a + (o['open'] ?? 0), 0);
      const failed = opened.reduce((a, o) => a + (o['failed'] ?? 0), 0);
      // The server's own count of streams it holds.
      let mHeld = await idleApi.metrics();
      for (let i = 0; i < 50 && openStreams(mHeld) < open; i++) {
        await sleep(200);
        mHeld = await idleApi.metrics();
      }
      // Hold them idle for a while (heartbeats only) and measure that window's CPU, then the memory.
      idleMon.beginWindow();
      await sleep(ctx.d(5000));
      const holdWindow = idleMon.endWindow();
      const rssAfter = readRssMB(idleServer.pid);
      const mAfter = await idleApi.metrics();
      const clientStats = await Promise.all(clients.map((c) => c.stats(true)));
      const stillOpen = clientStats.reduce((a, s) => a + s.idle.open, 0);
      const ended = clientStats.reduce((a, s) => a + s.idle.ended, 0);
      const errors: Record<string, number> = {};
      for (const s of clientStats) for (const [k, v] of Object.entries(s.idle.errors)) errors[k] = (errors[k] ?? 0) + v;

      // Close them and see what the server gives back.
      for (const c of clients) await c.close();
      let mClosed = await idleApi.metrics();
      for (let i = 0; i < 50 && openStreams(mClosed) > 0; i++) {
        await sleep(200);
        mClosed = await idleApi.metrics();
      }
      await sleep(2000);
      const rssClosed = readRssMB(idleServer.pid);

      const held = openStreams(mHeld);
      const kb = (mbBefore: number | null, mbAfter: number | null): number | null =>
        mbBefore !== null && mbAfter !== null && held > 0 ? round2(((mbAfter - mbBefore) * 1024) / held) : null;
      const perConn = kb(rssBefore, rssAfter);
      const heapPerConn = kb(heapMB(mBefore), heapMB(mAfter));
      memRow = {
        connections: IDLE_CONNECTIONS,
        processes,
        open,
        held,
        failed: failed + (stillOpen < open ? open - stillOpen : 0),
        openMs: Math.round(openMs),
        openRate: perSec(open, openMs),
        rssBefore: rssBefore === null ? null : round1(rssBefore),
        rssAfter: rssAfter === null ? null : round1(rssAfter),
        perConn,
        heapBefore: heapMB(mBefore),
        heapAfter: heapMB(mAfter),
        heapPerConn,
        rssClosed: rssClosed === null ? null : round1(rssClosed),
        openCpu: openWindow.procs['server']?.cpuPct ?? null,
        idleCpu: holdWindow.procs['server']?.cpuPct ?? null,
        clientCpu: openWindow.procs['puller']?.cpuPct ?? null,
        otherCpu: Math.max(openWindow.system?.otherPct ?? 0, holdWindow.system?.otherPct ?? 0),
      };
      headline['sseRssMB'] = memRow['rssAfter'] as number | null;
      headline['sseRssBeforeMB'] = memRow['rssBefore'] as number | null;
      headline['sseKBPerConnection'] = perConn;
      headline['sseHeapKBPerConnection'] = heapPerConn;
      headline['sseIdleConnectionsHeld'] = held;
      if (held < IDLE_CONNECTIONS) notes.push(`Only ${held} of ${IDLE_CONNECTIONS} idle streams were held by the server (client errors: ${errorsText(errors)}).`);
      if (ended > 0) notes.push(`${ended} idle streams were ended by the server while held.`);
      detail.push({ idle: memRow, openFilesLimit: limit, perProcess, clientErrors: errors, openWindow, holdWindow, openedPerProcess: opened });
      ctx.log(`idle SSE: ${held} held; RSS ${String(rssBefore)} -> ${String(rssAfter)} MB (${String(perConn)} KB each), heap+external ${String(heapPerConn)} KB each; after closing ${String(rssClosed)} MB`);
    } finally {
      idleMon.stop();
      // That server's RSS has its own target (≤ 300 MB with 10,000 streams): kept out of the "under load" peak.
      ctx.notePeak(idleMon, { rss: false });
      await idleApi.close();
      await ctx.stopServer(idleServer);
    }

    return {
      method: [
        `Latency: a fresh server (durability full, SQLite) with one application and one polling endpoint. One reader at a time runs in a separate client process (bench/puller.ts): (1) a consumer long-polling in a loop (\`GET .../poller/{id}/consumer/{c}?wait=30&limit=250\`, passing back each answer's iterator, which commits it; poller token); (2) the application's SSE message stream (\`GET /api/v1/app/{app}/msg/stream\`); (3) a consumer's SSE stream (\`.../consumer/{c}/stream\`, poller token). Consumers are first seeked to now.`,
        `For each reader: open-loop publishing at ${RATE} msg/s, ${warmupMs} ms warm-up (tagged apart, not counted) then ${durationMs} ms measured. The reader timestamps each message (first copy) when the answer body has arrived (long poll) or the event has been parsed (SSE). "after 202" (the target figure, as docs/pull.md defines it) = that time minus the time the publisher had the publish's 202 answer: the pull path alone; a reader can get the message before the 202 reaches the publisher (counted in "before the 202", recorded as 0). "from send" = that time minus \`payload.sentAt\` (the publisher's wall clock just before sending), which adds the publish request itself (commit with fsync). Same machine, same clock. "reads/s" = long-poll answers per second.`,
        `Memory: another fresh server; ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle SSE streams on the message stream, opened by ${processes} client process(es) on plain sockets (\`node:net\`, ${IDLE_CONCURRENCY} being opened at once per process, at most ${perProcess} per process; open-files limit ${limit ?? 'unknown'}). Before: after a warm-up of 200 streams opened and closed and 2 s idle. After: once the server's \`switchboard_open_connections{kind="sse"}\` gauge counts them and they have been idle for ${ctx.d(5000)} ms. KB per connection = RSS growth / streams held; also the growth of V8 heap used + external memory (from \`/metrics\`, no forced GC). "idle CPU" = server CPU while holding them (heartbeats every 15 s).`,
        'The latency target figure is the highest "after 202" p99 of the three readers. The idle-connection server is kept out of the "server RSS under load" peak: it has its own target (≤ 300 MB with 10,000 streams).',
      ],
      config: { rate: RATE, warmupMs, durationMs, idleConnections: IDLE_CONNECTIONS, idlePerProcess: perProcess, idleProcesses: processes, openFilesLimit: limit },
      tables: [
        table(
          `Publish-to-consumer latency at ${RATE} msg/s (ms)`,
          [
            ['reader', 'reader'],
            ['offered', 'msg/s offered'],
            ['published', 'published/s'],
            ['publishP99', 'publish p99'],
            ['expected', 'expected'],
            ['arrived', 'arrived'],
            ['p50', 'after 202 p50'],
            ['p90', 'p90'],
            ['p99', 'p99'],
            ['p999', 'p99.9'],
            ['max', 'max'],
            ['beforeAnswer', 'before the 202'],
            ['sendP50', 'from send p50'],
            ['sendP99', 'from send p99'],
            ['sendMax', 'from send max'],
            ['reads', 'reads/s'],
            ['dup', 'dup'],
            ['errors', 'errors'],
            ['serverCpu', 'server CPU %'],
            ['cpu_puller', 'reader CPU %'],
            ['cpu_loadgen', 'loadgen CPU %'],
            ['rss', 'server RSS MB'],
            ['otherCpu', 'other CPU %'],
          ],
          rows,
        ),
        table(
          'Idle SSE connections: server memory',
          [
            ['connections', 'streams'],
            ['processes', 'client processes'],
            ['held', 'held by server'],
            ['failed', 'failed'],
            ['openMs', 'open time ms'],
            ['openRate', 'opened/s'],
            ['rssBefore', 'RSS before MB'],
            ['rssAfter', 'RSS after MB'],
            ['perConn', 'KB per stream (RSS)'],
            ['heapBefore', 'heap+ext before MB'],
            ['heapAfter', 'heap+ext after MB'],
            ['heapPerConn', 'KB per stream (heap+ext)'],
            ['rssClosed', 'RSS after closing MB'],
            ['openCpu', 'server CPU % opening'],
            ['idleCpu', 'server CPU % idle'],
            ['clientCpu', 'client CPU % opening'],
            ['otherCpu', 'other CPU %'],
          ],
          memRow ? [memRow] : [],
        ),
      ],
      notes,
      headline,
      detail,
    };
  },
};

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { closedLoop } from '../loadgen.js';
import { LatencyHistogram } from '../lib/hist.js';
import { errorsText, messageBody, table, type Scenario } from '../lib/scenario.js';
import { Monitor } from '../lib/monitor.js';
import type { Row } from '../lib/report.js';

const CLIENTS = [1, 64];

/**
 * The floor: the same load generator against the bare receiver (node:http, no Switchboard).
 * Every publish and every delivery costs at least one such loopback request.
 */
export const floor: Scenario = {
  name: 'floor',
  title: 'Floor: one loopback HTTP request in Node (load generator -> bare receiver, no Switchboard)',
  async run(ctx) {
    const warmupMs = ctx.d(1000);
    const durationMs = ctx.d(5000);
    const receiver = await ctx.receiver();
    const port = await receiver.listen();
    await receiver.configure({ '/floor': { mode: { kind: 'ok' }, group: 'floor' } });
    const mon = new Monitor([
      { name: 'receiver', pid: receiver.pid },
      { name: 'loadgen', pid: process.pid },
    ]).start();
    const rows: Row[] = [];
    const detail: unknown[] = [];
    try {
      for (const concurrency of CLIENTS) {
        await receiver.reset(`floor-${concurrency}`);
        mon.beginWindow();
        const r = await closedLoop({
          baseUrl: `http://127.0.0.1:${port}`,
          headers: { 'content-type': 'application/json' },
          warmupMs,
          durationMs,
          concurrency,
          next: (seq) => ({ path: '/floor', body: messageBody('invoice.paid', `floor-${concurrency}`, seq) }),
        });
        const w = mon.endWindow();
        const receiverCpu = w.procs['receiver']?.cpuPct ?? null;
        const loadgenCpu = w.procs['loadgen']?.cpuPct ?? null;
        rows.push({
          clients: concurrency,
          rate: r.acceptedPerSec,
          p50: r.latency.p50,
          p99: r.latency.p99,
          max: r.latency.max,
          errors: errorsText(r.errors),
          receiverCpu,
          loadgenCpu,
          serverUsPerReq: receiverCpu !== null && r.acceptedPerSec > 0 ? Math.round((receiverCpu / 100 / r.acceptedPerSec) * 1e6) : null,
          clientUsPerReq: loadgenCpu !== null && r.acceptedPerSec > 0 ? Math.round((loadgenCpu / 100 / r.acceptedPerSec) * 1e6) : null,
          otherCpu: w.system?.otherPct ?? null,
        });
        detail.push({ concurrency, load: r, window: w });
        ctx.log(`c=${concurrency}: ${r.acceptedPerSec}/s p50 ${r.latency.p50} ms`);
      }
    } finally {
      mon.stop();
      ctx.notePeak(mon);
    }
    const best = Math.max(...rows.map((r) => (typeof r['rate'] === 'number' ? r['rate'] : 0)));
    const commits = commitCost();
    ctx.log(`SQLite commit: FULL p50 ${String(commits[0]?.['p50'])} ms, NORMAL p50 ${String(commits[1]?.['p50'])} ms`);
    return {
      method: [
        `The load generator (undici pool, closed loop) POSTs the same ~420-byte JSON body as the publish scenario to the benchmark receiver (node:http; it parses the JSON and counts, answers 200, no signature check). No Switchboard process runs.`,
        `Per N: ${warmupMs} ms warm-up, then ${durationMs} ms measured. CPU µs per request = process CPU time / requests (both sides).`,
        'Switchboard does at least this much per publish (one inbound request) and per delivery (one outbound request, plus the receiver\'s side), before any storage work.',
        `SQLite commit: ${COMMITS} single-row (~420-byte) INSERT transactions in WAL mode with synchronous=FULL (fsync of the WAL on every commit, what durability=full does) and NORMAL, in a temp directory on the same file system as the servers' data directories, timed one by one in this process.`,
      ],
      config: { clients: CLIENTS, warmupMs, durationMs },
      tables: [
        table(
          'One SQLite commit (WAL) in the data directory\'s file system (ms)',
          [
            ['synchronous', 'synchronous'],
            ['commits', 'commits'],
            ['p50', 'p50'],
            ['p99', 'p99'],
            ['max', 'max'],
            ['perSec', 'commits/s (one thread)'],
          ],
          commits,
        ),
        table(
          'Bare loopback HTTP request/response (ms)',
          [
            ['clients', 'clients'],
            ['rate', 'requests/s'],
            ['p50', 'p50'],
            ['p99', 'p99'],
            ['max', 'max'],
            ['errors', 'errors'],
            ['receiverCpu', 'server-side CPU %'],
            ['loadgenCpu', 'client-side CPU %'],
            ['serverUsPerReq', 'server CPU µs/req'],
            ['clientUsPerReq', 'client CPU µs/req'],
            ['otherCpu', 'other CPU %'],
          ],
          rows,
        ),
      ],
      notes: [],
      headline: { floorRequestsPerSec: best, commitFullP50Ms: typeof commits[0]?.['p50'] === 'number' ? commits[0]['p50'] : null },
      detail,
    };
  },
};

const COMMITS = 500;

/** Times single-row commits with synchronous FULL and NORMAL (better-sqlite3, WAL). */
function commitCost(): Row[] {
  const rows: Row[] = [];
  for (const sync of ['FULL', 'NORMAL'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-fsync-'));
    const db = new Database(join(dir, 'commit.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${sync}`);
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (payload) VALUES (?)');
      const body = messageBody('invoice.paid', 'floor', 0);
      const h = new LatencyHistogram();
      const t0 = performance.now();
      for (let i = 0; i < COMMITS; i++) {
        const t = performance.now();
        insert.run(body);
        h.recordMs(performance.now() - t);
      }
      const total = performance.now() - t0;
      const sum = h.summary();
      rows.push({ synchronous: sync, commits: COMMITS, p50: sum.p50, p99: sum.p99, max: sum.max, perSec: Math.round((COMMITS / total) * 1000) });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

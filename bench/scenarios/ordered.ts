/**
 * Ordered delivery (docs/ordering.md): how fast an ordered endpoint drains in strict per-key
 * order. The receiver runs in this process: it checks every arrival against the order per key
 * (message n only after n - 1 succeeded), fails 10 % of first attempts with 503, and holds the
 * first request of each key until publishing is done, so the drain measures delivery alone.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api } from '../lib/api.js';
import { table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';

const KEYS = 100;
const PER_KEY = 100;
const ONE_KEY_MESSAGES = 1_000;
const FAIL_EVERY = 10;
/** Short retries: a failed first attempt is tried again 50 ms later (the key waits that long). */
const RETRY_SCHEDULE = '0.05,0.05,0.05,0.05,0.05';
/** Enough slots for every key to have its one request out. */
const CONCURRENCY = 128;

/** Checks arrival order per key and answers. */
class OrderCheckingReceiver {
  private readonly next = new Map<string, number>();
  private readonly seen = new Set<string>();
  private firstAttempts = 0;
  private held: (() => void)[] = [];
  private gateOpen = false;
  delivered = 0;
  failedFirst = 0;
  duplicates = 0;
  violations = 0;
  lastAt = 0;
  private readonly server = createServer((req, res) => this.handle(req, res));

  async start(): Promise<number> {
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  /** Lets held requests go and answers the rest at once. */
  open(): void {
    this.gateOpen = true;
    for (const h of this.held.splice(0)) h();
  }

  reset(): void {
    this.next.clear();
    this.seen.clear();
    this.gateOpen = false;
    this.delivered = 0;
    this.failedFirst = 0;
    this.duplicates = 0;
    this.violations = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { k, n } = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { k: string; n: number } }).data;
      const answer = (): void => {
        const expected = this.next.get(k) ?? 0;
        if (n < expected) {
          this.duplicates++;
          res.writeHead(200).end();
          return;
        }
        if (n > expected) this.violations++;
        const id = `${k}/${n}`;
        const first = !this.seen.has(id);
        this.seen.add(id);
        if (first && ++this.firstAttempts % FAIL_EVERY === 0) {
          this.failedFirst++;
          res.writeHead(503).end();
          return;
        }
        this.next.set(k, Math.max(expected, n + 1));
        this.delivered++;
        this.lastAt = performance.now();
        res.writeHead(200).end();
      };
      if (this.gateOpen) answer();
      else this.held.push(answer);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export const ordered: Scenario = {
  name: 'ordered',
  title: 'Ordered delivery: strict per-key order, 100 keys and one key, 10 % of first attempts failing',
  async run(ctx) {
    const scale = Math.min(1, ctx.scale);
    const perKey = Math.max(10, Math.round(PER_KEY * scale));
    const oneKey = Math.max(100, Math.round(ONE_KEY_MESSAGES * scale));
    const rx = new OrderCheckingReceiver();
    const port = await rx.start();
    const server = await ctx.server({ durability: 'full', retrySchedule: RETRY_SCHEDULE, endpointConcurrency: CONCURRENCY });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, null);
    const rows: Row[] = [];
    const headline: Record<string, number | null> = {};
    try {
      const runs: { variant: string; keys: number; perKey: number }[] = [
        { variant: '100 keys', keys: KEYS, perKey },
        { variant: 'one key', keys: 1, perKey: oneKey },
      ];
      for (const run of runs) {
        rx.reset();
        const appId = await api.createApp(`bench-ordered-${run.keys}`);
        await api.call('POST', `/api/v1/app/${appId}/endpoint`, {
          url: `http://127.0.0.1:${port}/ordered`,
          metadata: { 'switchboard.ordering': 'pause', 'switchboard.orderingKeyPath': 'data.k' },
        });
        // Each key's messages one after another (that is their order), keys side by side.
        const total = run.keys * run.perKey;
        await Promise.all(
          Array.from({ length: run.keys }, async (_, i) => {
            for (let n = 0; n < run.perKey; n++) await api.publish(appId, 'order.changed', { data: { k: `key-${i}`, n } });
          }),
        );
        ctx.log(`${run.variant}: ${total} published; draining`);
        mon.beginWindow();
        const start = performance.now();
        rx.open();
        const deadline = start + ctx.d(120_000);
        while (rx.delivered < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const w = mon.endWindow();
        const seconds = (rx.lastAt - start) / 1000;
        const rate = rx.delivered > 0 && seconds > 0 ? Math.round(rx.delivered / seconds) : null;
        const cpu = w.procs['server']?.cpuPct ?? null;
        const cpuMsPerDelivery = cpu !== null && rx.delivered > 0 ? Math.round(((cpu / 100) * w.durationMs * 1000) / rx.delivered) / 1000 : null;
        rows.push({
          variant: run.variant,
          keys: run.keys,
          messages: total,
          delivered: rx.delivered,
          rate,
          failedFirst: rx.failedFirst,
          duplicates: rx.duplicates,
          violations: rx.violations,
          serverCpu: cpu,
          cpuMs: cpuMsPerDelivery,
        });
        headline[run.keys === 1 ? 'oneKeyPerSec' : 'hundredKeysPerSec'] = rate;
        headline[run.keys === 1 ? 'oneKeyViolations' : 'hundredKeysViolations'] = rx.violations;
      }
      ctx.notePeak(mon);
    } finally {
      mon.stop();
      await api.close();
      await rx.close();
    }
    return {
      method: [
        `One ordered endpoint (metadata switchboard.ordering=pause, key path data.k), durability full, SWITCHBOARD_ENDPOINT_CONCURRENCY=${CONCURRENCY}, retry schedule ${RETRY_SCHEDULE} s.`,
        `Messages are published first (per key one after another, keys side by side) while the receiver holds the first request of each key; the drain is timed from releasing it to the last success.`,
        `The receiver (in the load generator) fails every ${FAIL_EVERY}th first attempt with 503 and counts order violations (a message arriving before the previous one of its key succeeded) and duplicates.`,
      ],
      config: { keys: KEYS, perKey, oneKey, failEvery: FAIL_EVERY, retrySchedule: RETRY_SCHEDULE, concurrency: CONCURRENCY },
      tables: [
        table('Ordered drain', [
          ['variant', 'run'],
          ['keys', 'keys'],
          ['messages', 'messages'],
          ['delivered', 'delivered'],
          ['rate', 'deliveries/s'],
          ['failedFirst', 'failed first attempts'],
          ['duplicates', 'duplicates'],
          ['violations', 'order violations'],
          ['serverCpu', 'server CPU %'],
          ['cpuMs', 'server CPU ms / delivery'],
        ], rows),
      ],
      notes: ['Target: ≥ 2,000 deliveries/s over 100 keys in strict per-key order; one key is bounded by the round trip plus a claim and a record per message.'],
      headline,
      detail: rows,
    };
  },
};

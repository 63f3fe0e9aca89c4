/**
 * Stream sinks: for each sink type (rabbitMq, redis, natsJetStream, mqtt, http) with
 * batchSize 1 and 100, events/s from `events create` to arrival at a consumer of the
 * destination, and p99 latency; then the ingest rate of a rabbitMq queue source (messages
 * published to a RabbitMQ queue until each reaches the source's endpoint), or "not
 * available" when this server has no queue sources. `--quick`: 200 events per run.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { Api } from '../lib/api.js';
import { LatencyHistogram } from '../lib/hist.js';
import { BROKER_URLS, indexesIn, startConsumer } from '../lib/sink-consumers.js';
import type { SinkKind } from '../lib/sink-consumers.js';
import { table, type Ctx, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';

const KINDS: SinkKind[] = ['rabbitMq', 'redis', 'natsJetStream', 'mqtt', 'http'];
const BATCH_SIZES = [1, 100];
/** Events per `events create` request. */
const PER_REQUEST = 100;
const QUICK = process.argv.includes('--quick');

/** Arrivals of benchmark indexes: first arrival time of each, duplicates counted. */
class Arrivals {
  readonly at = new Map<number, number>();
  duplicates = 0;
  add(text: string): void {
    const now = performance.now();
    for (const i of indexesIn(text)) {
      if (this.at.has(i)) this.duplicates++;
      else this.at.set(i, now);
    }
  }
}

async function waitUntil(ctx: Ctx, done: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  void ctx;
  return done();
}

/** One sink type and batch size: stream, sink, consumer; events appended in requests of 100. */
async function runSink(ctx: Ctx, api: Api, kind: SinkKind, batchSize: number, events: number): Promise<Row> {
  const run = randomUUID().slice(0, 8);
  const arrivals = new Arrivals();
  const consumer = await startConsumer(kind, run, (t) => arrivals.add(t));
  const row: Row = { sink: kind, batchSize, events, arrived: 0, rate: null, p50: null, p99: null, duplicates: 0, status: 'ok' };
  try {
    const stream = await api.call<{ id: string }>('POST', '/api/v1/stream', { name: `bench ${kind} ${batchSize}`, uid: `bench-${run}` });
    const sink = await api.call<{ id: string }>('POST', `/api/v1/stream/${stream.id}/sink`, { ...consumer.sink, batchSize, maxWaitSecs: 0 });
    const sentAt: number[] = [];
    const start = performance.now();
    for (let i = 0; i < events; i += PER_REQUEST) {
      const n = Math.min(PER_REQUEST, events - i);
      const now = performance.now();
      for (let k = 0; k < n; k++) sentAt[i + k] = now;
      await api.call('POST', `/api/v1/stream/${stream.id}/events`, {
        events: Array.from({ length: n }, (_, k) => ({ eventType: 'bench.event', payload: JSON.stringify({ bi: i + k, pad: 'x'.repeat(64) }) })),
      });
    }
    const all = await waitUntil(ctx, () => arrivals.at.size >= events, ctx.d(QUICK ? 15_000 : 60_000));
    const hist = new LatencyHistogram();
    let last = start;
    for (const [i, t] of arrivals.at) {
      hist.recordMs(t - (sentAt[i] ?? start));
      last = Math.max(last, t);
    }
    const s = hist.summary();
    Object.assign(row, {
      arrived: arrivals.at.size,
      rate: arrivals.at.size > 0 ? Math.round(arrivals.at.size / ((last - start) / 1000)) : null,
      p50: arrivals.at.size > 0 ? s.p50 : null,
      p99: arrivals.at.size > 0 ? s.p99 : null,
      duplicates: arrivals.duplicates,
    });
    if (!all) {
      const state = await api.call<{ status: string; failureReason?: string | null }>('GET', `/api/v1/stream/${stream.id}/sink/${sink.id}`);
      row.status = `timed out (sink ${state.status}${state.failureReason ? `: ${state.failureReason}` : ''})`;
    }
  } catch (e) {
    row.status = `failed: ${(e as Error).message.slice(0, 200)}`;
  } finally {
    await consumer.close().catch(() => undefined);
  }
  ctx.log(`${kind} batch ${batchSize}: ${row.arrived}/${events} arrived, ${row.rate ?? '-'} events/s, p99 ${row.p99 ?? '-'} ms, ${row.status}`);
  return row;
}

/** A rabbitMq queue source: messages published to a queue until each reaches the source's endpoint. */
async function runQueueSource(ctx: Ctx, api: Api, messages: number): Promise<Row> {
  const run = randomUUID().slice(0, 8);
  const queue = `bench-source-${run}`;
  const row: Row = { source: 'rabbitMq queue', messages, arrived: 0, rate: null, p99: null, status: 'ok' };
  const conn = await amqp.connect(BROKER_URLS.rabbitMq);
  const ch = await conn.createChannel();
  const arrivals = new Arrivals();
  const rx = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.add(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  try {
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    let source: { id: string };
    try {
      source = await api.call<{ id: string }>('POST', '/ingest/api/v1/source', { type: 'rabbitMq', name: `bench ${run}`, config: { uri: BROKER_URLS.rabbitMq, queue, eventType: 'bench.queued' } });
    } catch (e) {
      row.status = `not available (${(e as Error).message.slice(0, 160)})`;
      return row;
    }
    await api.call('POST', `/ingest/api/v1/source/${source.id}/endpoint`, { url: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/queue` });
    const sentAt: number[] = [];
    const start = performance.now();
    for (let i = 0; i < messages; i++) {
      sentAt[i] = performance.now();
      ch.sendToQueue(queue, Buffer.from(JSON.stringify({ bi: i })), { contentType: 'application/json' });
    }
    const all = await waitUntil(ctx, () => arrivals.at.size >= messages, ctx.d(QUICK ? 15_000 : 60_000));
    const hist = new LatencyHistogram();
    let last = start;
    for (const [i, t] of arrivals.at) {
      hist.recordMs(t - (sentAt[i] ?? start));
      last = Math.max(last, t);
    }
    Object.assign(row, {
      arrived: arrivals.at.size,
      rate: arrivals.at.size > 0 ? Math.round(arrivals.at.size / ((last - start) / 1000)) : null,
      p99: arrivals.at.size > 0 ? hist.summary().p99 : null,
      status: all ? 'ok' : 'timed out',
    });
  } finally {
    await ch.deleteQueue(queue).catch(() => undefined);
    await conn.close().catch(() => undefined);
    rx.closeAllConnections();
    await new Promise<void>((r) => rx.close(() => r()));
  }
  ctx.log(`queue source: ${row.arrived}/${messages} arrived, ${row.rate ?? '-'} messages/s, ${row.status}`);
  return row;
}

export const sinks: Scenario = {
  name: 'sinks',
  title: 'Stream sinks: events/s and p99 from events create to a broker consumer, per sink type and batch size; rabbitMq queue source ingest',
  async run(ctx) {
    const events = QUICK ? 200 : Math.max(200, Math.round(5_000 * Math.min(1, ctx.scale)));
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, null);
    const rows: Row[] = [];
    const headline: Record<string, number | null> = {};
    let source: Row;
    try {
      for (const kind of KINDS) {
        for (const batchSize of BATCH_SIZES) {
          const row = await runSink(ctx, api, kind, batchSize, events);
          rows.push(row);
          headline[`${kind}Batch${batchSize}PerSec`] = typeof row.rate === 'number' && row.status === 'ok' ? row.rate : null;
        }
      }
      source = await runQueueSource(ctx, api, events);
      headline['rabbitMqQueueSourcePerSec'] = typeof source.rate === 'number' && source.status === 'ok' ? source.rate : null;
      ctx.notePeak(mon);
    } finally {
      mon.stop();
      await api.close();
    }
    const timedOut = rows.filter((r) => r.status !== 'ok').length;
    return {
      method: [
        `One server (durability full). For each sink type and batch size: a new stream and one sink (maxWaitSecs 0) pointing at a consumer in the load generator, ${events} events appended in requests of ${PER_REQUEST}.`,
        'Rate: distinct events arrived / (last arrival − first append). Latency: arrival − the start of the append request carrying the event. Duplicates (at-least-once redeliveries) are counted, not timed.',
        'Consumers: RabbitMQ queue (default exchange), Redis XREAD BLOCK, a core NATS subscription on the JetStream stream\u2019s subject, MQTT QoS 1 subscription, local HTTP receiver answering 204.',
        'Queue source: a rabbitMq source on a new queue with an endpoint at a local receiver; the same number of messages published to the queue, timed to arrival at the receiver.',
      ],
      config: { events, perRequest: PER_REQUEST, batchSizes: BATCH_SIZES, quick: QUICK },
      tables: [
        table('Stream sinks', [
          ['sink', 'sink'],
          ['batchSize', 'batch size'],
          ['events', 'events'],
          ['arrived', 'arrived'],
          ['rate', 'events/s'],
          ['p50', 'p50 ms'],
          ['p99', 'p99 ms'],
          ['duplicates', 'duplicates'],
          ['status', 'status'],
        ], rows),
        table('Queue source ingest', [
          ['source', 'source'],
          ['messages', 'messages'],
          ['arrived', 'arrived'],
          ['rate', 'messages/s'],
          ['p99', 'p99 ms'],
          ['status', 'status'],
        ], [source]),
      ],
      notes: timedOut ? [`${timedOut} sink run(s) did not deliver every event in time; see status.`] : [],
      headline,
      detail: { sinks: rows, queueSource: source },
    };
  },
};

/**
 * Stream sinks: for each sink type (rabbitMq, redis, natsJetStream, mqtt, http) with
 * batchSize 1 and 100, events/s from `events create` to arrival at a consumer of the
 * destination, and p99 latency; then the ingest rate of each queue source type (rabbitMq,
 * redisStream, natsJetStream: messages/s stored and acknowledged from a backlog on the
 * broker), or "not available" when this server has no queue sources. `--quick`: 200 events
 * (and messages) per run.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { connect as natsConnect } from 'nats';
import { createClient } from 'redis';
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

type QueueKind = 'rabbitMq' | 'redisStream' | 'natsJetStream';
const QUEUE_KINDS: QueueKind[] = ['rabbitMq', 'redisStream', 'natsJetStream'];

/** A backlog of messages on a broker, and the source config that consumes it. */
interface Backlog {
  config: Record<string, unknown>;
  close(): Promise<void>;
}

/** Puts `messages` JSON messages on a new queue, Redis stream or JetStream stream named after `run`. */
async function fillBacklog(kind: QueueKind, run: string, messages: number): Promise<Backlog> {
  const body = (i: number): string => JSON.stringify({ bi: i, pad: 'x'.repeat(64) });
  if (kind === 'rabbitMq') {
    const queue = `bench-source-${run}`;
    const conn = await amqp.connect(BROKER_URLS.rabbitMq);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    for (let i = 0; i < messages; i++) ch.sendToQueue(queue, Buffer.from(body(i)), { contentType: 'application/json', messageId: `m${i}` });
    await ch.waitForConfirms();
    return {
      config: { uri: BROKER_URLS.rabbitMq, queue },
      close: async () => {
        await ch.deleteQueue(queue).catch(() => undefined);
        await conn.close().catch(() => undefined);
      },
    };
  }
  if (kind === 'redisStream') {
    const key = `bench-source-${run}`;
    const client = createClient({ url: BROKER_URLS.redis });
    client.on('error', () => undefined);
    await client.connect();
    for (let i = 0; i < messages; i += 500) {
      const multi = client.multi();
      for (let k = i; k < Math.min(messages, i + 500); k++) multi.xAdd(key, '*', { payload: body(k) });
      await multi.exec();
    }
    return {
      config: { uri: BROKER_URLS.redis, streamKey: key, group: 'bench' },
      close: async () => {
        await client.del(key).catch(() => undefined);
        client.destroy();
      },
    };
  }
  const stream = `BENCH_SOURCE_${run}`;
  const nc = await natsConnect({ servers: BROKER_URLS.nats });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const js = nc.jetstream();
  for (let i = 0; i < messages; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, messages - i) }, (_, k) => js.publish(`${stream}.events`, Buffer.from(body(i + k)))));
  }
  return {
    config: { url: BROKER_URLS.nats, stream, durable: 'bench' },
    close: async () => {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    },
  };
}

interface SourceView {
  consumer?: { connected: boolean; consumed: number; deadLettered: number; lastError: string | null } | null;
}

/**
 * One queue source type: a backlog of messages already on the broker, then a source that
 * consumes it; timed from the source's creation until its consumer has stored every message
 * (each one is acknowledged to the broker right after it is stored).
 */
async function runQueueSource(ctx: Ctx, api: Api, kind: QueueKind, messages: number): Promise<Row> {
  const run = randomUUID().slice(0, 8);
  const row: Row = { source: kind, messages, stored: 0, rate: null, status: 'ok' };
  let backlog: Backlog | null = null;
  let sourceId: string | null = null;
  try {
    backlog = await fillBacklog(kind, run, messages);
    const start = performance.now();
    try {
      sourceId = (await api.call<{ id: string }>('POST', '/ingest/api/v1/source', { type: kind, name: `bench ${kind} ${run}`, config: { ...backlog.config, eventType: 'bench.queued' } })).id;
    } catch (e) {
      row.status = `not available (${(e as Error).message.slice(0, 160)})`;
      return row;
    }
    let view: SourceView = {};
    const deadline = start + ctx.d(QUICK ? 15_000 : 60_000);
    let doneAt = start;
    while (performance.now() < deadline) {
      view = await api.call<SourceView>('GET', `/ingest/api/v1/source/${sourceId}`);
      doneAt = performance.now();
      if ((view.consumer?.consumed ?? 0) >= messages) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const stored = view.consumer?.consumed ?? 0;
    Object.assign(row, {
      stored,
      rate: stored > 0 ? Math.round(stored / ((doneAt - start) / 1000)) : null,
      status: stored >= messages ? 'ok' : `timed out${view.consumer?.lastError ? ` (${view.consumer.lastError.slice(0, 160)})` : ''}`,
    });
  } catch (e) {
    row.status = `failed: ${(e as Error).message.slice(0, 200)}`;
  } finally {
    if (sourceId) await api.call('DELETE', `/ingest/api/v1/source/${sourceId}`).catch(() => undefined);
    await backlog?.close().catch(() => undefined);
  }
  ctx.log(`${kind} queue source: ${String(row.stored)}/${messages} stored, ${row.rate ?? '-'} messages/s, ${row.status}`);
  return row;
}

export const sinks: Scenario = {
  name: 'sinks',
  title: 'Stream sinks: events/s and p99 from events create to a broker consumer, per sink type and batch size; queue source ingest (rabbitMq, redisStream, natsJetStream)',
  async run(ctx) {
    const events = QUICK ? 200 : Math.max(200, Math.round(5_000 * Math.min(1, ctx.scale)));
    // A few seconds of consuming per source type at the usual rates.
    const queueMessages = QUICK ? 200 : Math.max(200, Math.round(3_000 * Math.min(1, ctx.scale)));
    const server = await ctx.server({ durability: 'full' });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, null);
    const rows: Row[] = [];
    const headline: Record<string, number | null> = {};
    const sources: Row[] = [];
    try {
      for (const kind of KINDS) {
        for (const batchSize of BATCH_SIZES) {
          const row = await runSink(ctx, api, kind, batchSize, events);
          rows.push(row);
          headline[`${kind}Batch${batchSize}PerSec`] = typeof row.rate === 'number' && row.status === 'ok' ? row.rate : null;
        }
      }
      for (const kind of QUEUE_KINDS) {
        const source = await runQueueSource(ctx, api, kind, queueMessages);
        sources.push(source);
        headline[`${kind}QueueSourcePerSec`] = typeof source.rate === 'number' && source.status === 'ok' ? source.rate : null;
      }
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
        `Queue sources (rabbitMq, redisStream, natsJetStream): ${queueMessages} messages put on a new queue, Redis stream or JetStream stream first; then a source (its own application, no endpoints) is created, timed from its creation until its consumer has stored every message (the \`consumed\` count of its API view, polled every 25 ms). Each message is acknowledged to the broker right after it is stored.`,
      ],
      config: { events, perRequest: PER_REQUEST, batchSizes: BATCH_SIZES, queueMessages, quick: QUICK },
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
        table('Queue source ingest (stored and acknowledged)', [
          ['source', 'source'],
          ['messages', 'messages'],
          ['stored', 'stored'],
          ['rate', 'messages/s'],
          ['status', 'status'],
        ], sources),
      ],
      notes: timedOut ? [`${timedOut} sink run(s) did not deliver every event in time; see status.`] : [],
      headline,
      detail: { sinks: rows, queueSources: sources },
    };
  },
};

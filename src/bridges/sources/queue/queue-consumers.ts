/**
 * Runs one consumer per queue source on this node (a node that sends), and starts, restarts
 * or stops them when sources are created, changed or deleted: at once for changes made
 * through this node, within `sweepMs` for changes made through another node. With several
 * nodes on PostgreSQL every node consumes; the broker balances its consumers between them,
 * and event ids derived from broker ids keep a message redelivered to another node single.
 */
import { hostname } from 'node:os';
import type { BlockList } from 'node:net';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../domain/clock.js';
import { toError } from '../../../domain/errors.js';
import { newId } from '../../../domain/ids.js';
import type { IngestSource } from '../../../domain/providers/source.js';
import { isQueueType } from '../../../domain/sources/queue-config.js';
import type { QueueConfig, QueueType } from '../../../domain/sources/queue-config.js';
import type { IngestStore } from '../../../storage/contract/ingest.js';
import { LOGS_KEPT_PER_SOURCE } from '../../ingest/ingest.js';
import { parseSource } from '../../ingest/ingest-sources.js';
import type { IngestSourceService } from '../../ingest/ingest-sources.js';
import type { MessageService } from '../../push/messages.js';
import { pinQueueBroker } from './broker-address.js';
import { consumeNatsJetStream } from './nats-jet-stream-consumer.js';
import { QueueConsumer } from './queue-consumer.js';
import type { BrokerConsumer, QueueConsumerState, QueueTargetWriter } from './queue-consumer.js';
import type { BrokerMessage } from './queue-message.js';
import { consumeRabbitMq } from './rabbit-mq-consumer.js';
import { consumeRedisStream } from './redis-stream-consumer.js';

/** Appends events to a stream (the stream target); an id already in the stream is skipped. */
export type AppendStreamEvents = (streamId: string, events: { id: string; eventType: string; payload: string }[]) => Promise<unknown>;

export const BROKER_CONSUMERS: Record<QueueType, BrokerConsumer> = {
  rabbitMq: consumeRabbitMq as BrokerConsumer,
  redisStream: consumeRedisStream as BrokerConsumer,
  natsJetStream: consumeNatsJetStream as BrokerConsumer,
};

/** Logged payloads of dead messages are cut to this size. */
const LOGGED_PAYLOAD_BYTES = 64 * 1024;

export interface QueueConsumersOptions {
  sources: IngestSourceService;
  ingest: IngestStore;
  messages: MessageService;
  clock: Clock;
  logger: Logger;
  allowedNetworks: BlockList;
  maxPayloadBytes: number;
  /** The stream target; without it a source that targets a stream shows why it does not run. */
  appendStreamEvents?: AppendStreamEvents | undefined;
  /** This node's name (the default Redis consumer name); the host name by default. */
  nodeName?: string;
  /** How often sources changed through other nodes are looked for. */
  sweepMs?: number;
  /** Reconnect delays (tests shorten them). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class QueueConsumers {
  private readonly running = new Map<string, { consumer: QueueConsumer; version: string }>();
  private started = false;
  private stopping = false;
  private timer: TimerHandle | null = null;
  private syncing: Promise<void> | null = null;
  private again = false;
  private readonly writer: QueueTargetWriter;

  constructor(private readonly o: QueueConsumersOptions) {
    this.writer = {
      write: async (source, config, m) => {
        if (config.target.kind === 'stream') {
          await this.o.appendStreamEvents!(config.target.streamId, [{ id: m.eventId, eventType: m.eventType, payload: m.payload }]);
          return;
        }
        const app = await this.o.sources.appFor(source);
        // A duplicate is a redelivery of a message already stored: success.
        await this.o.messages.publish(app, { eventType: m.eventType, eventId: m.eventId, payload: m.payload });
      },
      log: async (source, reason, m) => this.log(source, reason, m),
    };
  }

  /** The state of a source's consumer on this node, or null when this node runs none. */
  stateOf(sourceId: string): QueueConsumerState | null {
    const r = this.running.get(sourceId);
    return r ? { ...r.consumer.state } : null;
  }

  async start(): Promise<void> {
    this.started = true;
    await this.sync();
  }

  /** Looks at the sources again now (one of them was created, changed or deleted). */
  poke(): void {
    if (!this.started || this.stopping) return;
    void this.sync();
  }

  /** Stops every consumer; unacknowledged messages go back to their brokers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    this.timer = null;
    await this.syncing;
    await Promise.allSettled([...this.running.values()].map((r) => r.consumer.stop()));
    this.running.clear();
  }

  private sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (e: unknown) {
          this.o.logger.error({ err: toError(e) }, 'queue sources: could not list sources; trying again later');
        }
      } while (this.again && !this.stopping);
      this.syncing = null;
      if (!this.stopping) {
        this.timer?.cancel();
        this.timer = this.o.clock.setTimer(this.o.sweepMs ?? 30_000, () => void this.sync());
      }
    })();
    return this.syncing;
  }

  private async reconcile(): Promise<void> {
    const wanted = new Map<string, IngestSource>();
    let iterator: string | undefined;
    do {
      const page = await this.o.sources.list({ limit: 250, iterator });
      for (const s of page.data) if (isQueueType(s.type)) wanted.set(s.id, s);
      iterator = page.done ? undefined : (page.iterator ?? undefined);
    } while (iterator && !this.stopping);
    if (this.stopping) return;
    for (const [id, r] of this.running) {
      const s = wanted.get(id);
      if (!s || versionOf(s) !== r.version) {
        this.running.delete(id);
        await r.consumer.stop();
        this.o.logger.info({ source: id }, 'queue source: consumer stopped');
      }
    }
    for (const [id, s] of wanted) {
      if (this.running.has(id) || this.stopping) continue;
      this.running.set(id, { consumer: this.consumerFor(s), version: versionOf(s) });
      this.running.get(id)!.consumer.start();
      this.o.logger.info({ source: id, type: s.type }, 'queue source: consumer started');
    }
  }

  private consumerFor(source: IngestSource): QueueConsumer {
    let config: QueueConfig | null = null;
    let unusable: string | null = null;
    try {
      const parsed = parseSource(source);
      if (parsed.kind === 'queue') config = parsed.config;
    } catch (e: unknown) {
      unusable = `the source's config cannot be read: ${toError(e).message}`;
    }
    if (config?.target.kind === 'stream' && !this.o.appendStreamEvents) unusable = 'this server cannot publish to streams: config.target.stream is not supported here';
    const c = config ?? ({ type: 'rabbitMq', uri: 'amqp://invalid', queue: '-', prefetch: 1, eventType: null, target: { kind: 'application' } });
    return new QueueConsumer({
      source,
      config: c,
      broker: BROKER_CONSUMERS[c.type],
      writer: this.writer,
      logger: this.o.logger,
      maxPayloadBytes: this.o.maxPayloadBytes,
      pinAddress: (uri) => pinQueueBroker(uri, this.o.allowedNetworks),
      nodeName: this.o.nodeName ?? hostname(),
      now: () => this.o.clock.now(),
      unusable,
      minBackoffMs: this.o.minBackoffMs,
      maxBackoffMs: this.o.maxBackoffMs,
    });
  }

  private async log(source: IngestSource, reason: string, m: BrokerMessage): Promise<void> {
    const now = this.o.clock.now();
    const headers: Record<string, string> = {};
    if (m.brokerId !== null) headers['x-broker-message-id'] = m.brokerId;
    if (m.typeHint !== null) headers['x-broker-type'] = m.typeHint;
    const payload = m.body.subarray(0, LOGGED_PAYLOAD_BYTES).toString('utf8');
    await this.o.ingest.addLogs([{ id: newId('ingestLog', now), sourceId: source.id, statusCode: 422, errorText: reason, headers, payload, createdAt: now }], LOGS_KEPT_PER_SOURCE);
    this.o.logger.warn({ source: source.id, reason, brokerId: m.brokerId }, 'queue source: message dead-lettered');
  }
}

/** A consumer is restarted when its source's type or config changed. */
const versionOf = (s: IngestSource): string => `${s.type}\n${JSON.stringify(s.config)}`;

/**
 * One queue source's consumer: connects to its broker, hands every message to the source's
 * target, and reconnects with backoff (1 s doubling to 30 s) after any failure: the broker
 * down at start or mid-stream, wrong credentials, or a store that cannot write. Its state
 * (connected, last error, last message, counts) is kept for the source's API view.
 *
 * The broker is acknowledged only after the message is stored. A message that can never be
 * stored (not JSON, no event type, too large, refused by its target) is logged in the
 * source's log and dead-lettered on the broker; a store that fails (disk full, database
 * down) leaves the message unacknowledged, ends the session and retries after the backoff.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AppError, toError } from '../../../domain/errors.js';
import type { IngestSource } from '../../../domain/providers/source.js';
import type { QueueConsumerView } from '../../ingest/ingest-sources.js';
import { withoutSecrets } from '../../../domain/sources/queue-config.js';
import type { QueueConfig } from '../../../domain/sources/queue-config.js';
import type { CheckedBroker } from '../../../engine/broker-address.js';
import { decodeQueueMessage } from './queue-message.js';
import type { BrokerMessage } from './queue-message.js';

/** What the API shows of a running consumer. */
export type QueueConsumerState = QueueConsumerView;

/** How a message ended: stored (ack it), or dead (dead-letter it on the broker; it is already in the source's log). */
export type HandleOutcome = { kind: 'stored' } | { kind: 'dead'; reason: string };

/** Thrown when a message could not be stored for a reason that passes: it is not acknowledged. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** What a broker's consumer is given for one connection. */
export interface ConsumerSession {
  /** Stores one message; throws a StoreUnavailableError when it must be redelivered later. */
  handle(m: BrokerMessage): Promise<HandleOutcome>;
  /** Called once the consumer is subscribed. */
  connected(): void;
  /** Aborted when the consumer is stopped: the broker consumer closes and resolves. */
  signal: AbortSignal;
  /**
   * The URI to connect with: its host replaced by an address the network guard allows,
   * checked now (throws when there is none). Connect to it, never to the name again.
   */
  pinAddress(uri: string): Promise<CheckedBroker>;
  /** This node's name, the default Redis consumer name. */
  nodeName: string;
}

/** Connects and consumes until the session is aborted (resolves) or fails (rejects). */
export type BrokerConsumer = (config: QueueConfig, session: ConsumerSession) => Promise<void>;

/** Where a message goes once decoded. */
export interface QueueTargetWriter {
  /** Stores the message for the source; a duplicate event id is success. */
  write(source: IngestSource, config: QueueConfig, m: { eventType: string; eventId: string; payload: string }): Promise<void>;
  /** Records a dead-lettered message in the source's log. */
  log(source: IngestSource, reason: string, m: BrokerMessage): Promise<void>;
}

export interface QueueConsumerOptions {
  source: IngestSource;
  config: QueueConfig;
  broker: BrokerConsumer;
  writer: QueueTargetWriter;
  logger: Logger;
  maxPayloadBytes: number;
  pinAddress(uri: string): Promise<CheckedBroker>;
  nodeName: string;
  now(): number;
  /** Why this consumer cannot run at all (e.g. a stream target this server cannot write): shown, nothing connects. */
  unusable?: string | null;
  /** Reconnect delays; 1 s to 30 s by default. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A refusal that retrying cannot change: the message is dead-lettered. Storage faults and unavailability are retried. */
function isPermanent(e: unknown): boolean {
  return e instanceof AppError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
}

export class QueueConsumer {
  readonly state: QueueConsumerState = { connected: false, lastError: null, lastErrorAt: null, lastMessageAt: null, consumed: 0, deadLettered: 0 };
  private readonly abort = new AbortController();
  private failures = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly o: QueueConsumerOptions) {}

  get sourceId(): string {
    return this.o.source.id;
  }

  /** Starts the connect-consume-reconnect loop. */
  start(): void {
    if (this.o.unusable) {
      this.fail(this.o.unusable);
      return;
    }
    this.running ??= this.loop();
  }

  /** Stops consuming: the connection closes, unacknowledged messages go back to the broker. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.state.connected = false;
  }

  private fail(reason: string): void {
    this.state.connected = false;
    this.state.lastError = withoutSecrets(this.o.config, reason).slice(0, 1000);
    this.state.lastErrorAt = this.o.now();
  }

  private async loop(): Promise<void> {
    const min = this.o.minBackoffMs ?? 1000;
    const max = this.o.maxBackoffMs ?? 30_000;
    while (!this.abort.signal.aborted) {
      const startedAt = this.o.now();
      try {
        await this.o.broker(this.o.config, this.session());
      } catch (e: unknown) {
        if (this.abort.signal.aborted) break;
        this.fail(describe(e));
        this.o.logger.warn({ source: this.o.source.id, type: this.o.config.type, error: this.state.lastError }, 'queue source: consumer stopped; reconnecting');
      }
      this.state.connected = false;
      if (this.abort.signal.aborted) break;
      // A session that ran a while was healthy: the next failure starts the backoff again.
      if (this.o.now() - startedAt > max) this.failures = 0;
      const delay = Math.min(min * 2 ** Math.min(this.failures, 20), max);
      this.failures++;
      // A stop ends the wait at once.
      await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => {});
    }
  }

  private session(): ConsumerSession {
    return {
      signal: this.abort.signal,
      nodeName: this.o.nodeName,
      pinAddress: (uri) => this.o.pinAddress(uri),
      connected: () => {
        this.state.connected = true;
      },
      handle: (m) => this.handle(m),
    };
  }

  private async handle(m: BrokerMessage): Promise<HandleOutcome> {
    const { source, config } = this.o;
    const decoded = decodeQueueMessage(config, m, this.o.maxPayloadBytes);
    let outcome: HandleOutcome;
    if (decoded.kind === 'bad') outcome = { kind: 'dead', reason: decoded.reason };
    else {
      try {
        await this.o.writer.write(source, config, decoded);
        outcome = { kind: 'stored' };
      } catch (e: unknown) {
        if (!isPermanent(e)) throw new StoreUnavailableError(`could not store a message: ${describe(e)}`);
        outcome = { kind: 'dead', reason: toError(e).message };
      }
    }
    if (outcome.kind === 'dead') {
      try {
        await this.o.writer.log(source, outcome.reason, m);
      } catch (e: unknown) {
        throw new StoreUnavailableError(`could not log a dead-lettered message: ${describe(e)}`);
      }
      this.state.deadLettered++;
    } else {
      this.state.consumed++;
      this.failures = 0;
    }
    this.state.lastMessageAt = this.o.now();
    return outcome;
  }
}

/** An error's code and message, as the state shows it. */
function describe(e: unknown): string {
  const err = toError(e) as Error & { code?: unknown };
  const code = typeof err.code === 'string' || typeof err.code === 'number' ? String(err.code) : null;
  const msg = err.message || err.name;
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

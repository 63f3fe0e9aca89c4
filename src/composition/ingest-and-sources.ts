/** Wires the ingest side: sources, the receiving path, the scheduler of poll and cron sources, and the consumers of queue sources. */
import type { BlockList } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../storage/contract/store.js';
import type { ApplicationService } from '../catalog/applications.js';
import type { EndpointService } from '../catalog/endpoints.js';
import { IngestService } from '../bridges/ingest/ingest.js';
import { IngestSourceService } from '../bridges/ingest/ingest-sources.js';
import type { MessageService } from '../bridges/push/messages.js';
import { GuardedPollClient } from '../bridges/sources/poll-source-http.js';
import { SourceScheduler } from '../bridges/sources/source-scheduler.js';
import { checkBrokerAddress } from '../bridges/sources/queue/broker-address.js';
import { QueueConsumers } from '../bridges/sources/queue/queue-consumers.js';
import type { AppendStreamEvents } from '../bridges/sources/queue/queue-consumers.js';

export interface IngestModuleOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  applications: ApplicationService;
  endpoints: EndpointService;
  messages: MessageService;
  allowedNetworks: BlockList;
  requestTimeoutMs: number;
  pollMaxResponseBytes: number;
  dedupeWindowMs: number;
  /** How long a claimed scheduled run may take before another claimer retries it. */
  leaseMs: number;
  /** Largest message a queue source publishes; larger ones are dead-lettered. */
  maxPayloadBytes: number;
  /** Lets queue sources target a stream (`config.target.stream`). */
  appendStreamEvents?: AppendStreamEvents | undefined;
  /** Queue consumers' reconnect delays (1 s to 30 s by default). */
  queueBackoffMs?: { min: number; max: number } | undefined;
}

export interface IngestModule {
  sources: IngestSourceService;
  ingest: IngestService;
  scheduler: SourceScheduler;
  /** The consumers of queue sources; started by the caller on nodes that send. */
  queues: QueueConsumers;
  /**
   * Stops the scheduler (runs in flight may finish within `graceMs`; polls still running then
   * are cut and end as failed polls) and the queue consumers, and closes the polling client.
   */
  close(graceMs: number): Promise<void>;
}

/** Creates the ingest services; the scheduler is started by the caller (nodes that send). */
export function createIngest(o: IngestModuleOptions): IngestModule {
  const client = new GuardedPollClient({ allowedNetworks: o.allowedNetworks, timeoutMs: o.requestTimeoutMs, maxResponseBytes: o.pollMaxResponseBytes });
  const holder: { scheduler?: SourceScheduler; queues?: QueueConsumers } = {};
  const sources = new IngestSourceService(o.store, o.clock, o.applications, o.endpoints, {
    onScheduleChange: () => holder.scheduler?.poke(),
    onQueueChange: () => holder.queues?.poke(),
    checkBrokerUri: (uri, loc) => checkBrokerAddress(uri, o.allowedNetworks, loc),
    consumerState: (id) => holder.queues?.stateOf(id) ?? null,
  });
  const ingest = new IngestService(o.store.ingest, o.clock, sources, o.messages, { dedupeWindowMs: o.dedupeWindowMs });
  const scheduler = new SourceScheduler({ store: o.store, clock: o.clock, logger: o.logger, sources, messages: o.messages, client, leaseMs: o.leaseMs });
  holder.scheduler = scheduler;
  const queues = new QueueConsumers({
    sources,
    ingest: o.store.ingest,
    messages: o.messages,
    clock: o.clock,
    logger: o.logger,
    allowedNetworks: o.allowedNetworks,
    maxPayloadBytes: o.maxPayloadBytes,
    appendStreamEvents: o.appendStreamEvents,
    minBackoffMs: o.queueBackoffMs?.min,
    maxBackoffMs: o.queueBackoffMs?.max,
  });
  holder.queues = queues;
  return {
    sources,
    ingest,
    scheduler,
    queues,
    async close(graceMs: number) {
      await Promise.all([scheduler.stop(graceMs), queues.stop()]);
      await client.close();
      await scheduler.idle();
    },
  };
}

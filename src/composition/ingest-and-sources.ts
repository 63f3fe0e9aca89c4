/** Wires the ingest side: sources, the receiving path, and the scheduler of poll and cron sources. */
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
}

export interface IngestModule {
  sources: IngestSourceService;
  ingest: IngestService;
  scheduler: SourceScheduler;
  /** Stops the scheduler (runs in flight finish) and closes the polling client. */
  close(): Promise<void>;
}

/** Creates the ingest services; the scheduler is started by the caller (nodes that send). */
export function createIngest(o: IngestModuleOptions): IngestModule {
  const client = new GuardedPollClient({ allowedNetworks: o.allowedNetworks, timeoutMs: o.requestTimeoutMs, maxResponseBytes: o.pollMaxResponseBytes });
  const holder: { scheduler?: SourceScheduler } = {};
  const sources = new IngestSourceService(o.store, o.clock, o.applications, o.endpoints, { onScheduleChange: () => holder.scheduler?.poke() });
  const ingest = new IngestService(o.store.ingest, o.clock, sources, o.messages, { dedupeWindowMs: o.dedupeWindowMs });
  const scheduler = new SourceScheduler({ store: o.store, clock: o.clock, logger: o.logger, sources, messages: o.messages, client, leaseMs: o.leaseMs });
  holder.scheduler = scheduler;
  return {
    sources,
    ingest,
    scheduler,
    async close() {
      await scheduler.stop();
      await client.close();
    },
  };
}

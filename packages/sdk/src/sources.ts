/** Ingest sources, polling and cron sources among them: a third-party API polled into events. */
import { seg } from './http.js';
import type { Http } from './http.js';
import type { IngestLogPage, IngestSourceIn, IngestSourceOut, IngestSourcePage, IngestSourcePatch } from './generated/types.js';

/** The `config` of a `poll` source (see docs/ingest.md). */
export interface PollingSourceConfig {
  url: string;
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Sent with every request; encrypted at rest and never shown again. */
  headers?: Record<string, string>;
  intervalSecs?: number;
  eventType?: string;
  /** JSONata expression giving the items (default: the whole body as one item). */
  items?: string;
  /** JSONata expression giving an item's identity (default: a hash of its content). */
  itemId?: string;
  emitOn?: 'new' | 'changed' | 'both';
  emitInitial?: boolean;
}

/** The `config` of a `cron` source. */
export interface CronSourceConfig {
  schedule: string;
  /** JSON text published on each tick. */
  payload?: string;
  contentType?: string;
  eventType?: string;
  timezone?: string;
}

export class Sources {
  constructor(private readonly http: Http) {}

  create(body: IngestSourceIn): Promise<IngestSourceOut> {
    return this.http.request('POST', '/ingest/api/v1/source', { body });
  }

  /** A source that polls an API on a schedule and publishes new or changed items. */
  createPolling(name: string, config: PollingSourceConfig, o: { uid?: string; metadata?: Record<string, string> } = {}): Promise<IngestSourceOut> {
    return this.create({ name, type: 'poll', config: config as unknown as Record<string, unknown>, ...o });
  }

  /** A source that publishes a fixed payload on a cron schedule. */
  createCron(name: string, config: CronSourceConfig, o: { uid?: string; metadata?: Record<string, string> } = {}): Promise<IngestSourceOut> {
    return this.create({ name, type: 'cron', config: config as unknown as Record<string, unknown>, ...o });
  }

  list(o: { limit?: number; iterator?: string } = {}): Promise<IngestSourcePage> {
    return this.http.request('GET', '/ingest/api/v1/source', { query: o });
  }

  /** A source by id or uid; poll and cron sources carry their schedule state in `run`. */
  get(id: string): Promise<IngestSourceOut> {
    return this.http.request('GET', `/ingest/api/v1/source/${seg(id)}`);
  }

  update(id: string, patch: IngestSourcePatch): Promise<IngestSourceOut> {
    return this.http.request('PATCH', `/ingest/api/v1/source/${seg(id)}`, { body: patch });
  }

  async delete(id: string): Promise<void> {
    await this.http.request('DELETE', `/ingest/api/v1/source/${seg(id)}`);
  }

  /** What the source received or refused, newest first. */
  log(id: string, o: { limit?: number; iterator?: string } = {}): Promise<IngestLogPage> {
    return this.http.request('GET', `/ingest/api/v1/source/${seg(id)}/log`, { query: o });
  }
}

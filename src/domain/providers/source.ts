/** Ingest sources: where events come from (a provider's webhooks, a polled API, a schedule). */
import type { Metadata } from '../model.js';

export interface IngestSource {
  id: string;
  uid: string | null;
  name: string;
  /** A provider type (`stripe`, `github`, ...), `poll` or `cron`. */
  type: string;
  /** The config as given, normalised; holds secrets, so it is sealed at rest. */
  config: Record<string, unknown>;
  metadata: Metadata;
  createdAt: number;
  updatedAt: number;
}

/** What the last scheduled run of a poll or cron source did. */
export type RunOutcomeKind = 'emitted' | 'unchanged' | 'not-modified' | 'primed' | 'error';

/**
 * Storage of ingest sources: sources and their URL tokens, the log of rejected requests,
 * the run state of scheduled sources (poll, cron) and the items a polling source has seen.
 * Exposed on the Store as `store.ingest`.
 */
import type { Metadata } from '../../domain/model.js';
import type { RunOutcomeKind } from '../../domain/providers/source.js';
import type { Page, PageQuery } from './paging.js';

export interface SourceRecord {
  id: string;
  uid: string | null;
  name: string;
  type: string;
  metadata: Metadata;
  /** The config as JSON text; it holds secrets, so the store seals it at rest. */
  config: string;
  createdAt: number;
  updatedAt: number;
}

/** A URL token: looked up by its SHA-256; the token itself is sealed at rest so the ingest URL can be shown again. */
export interface SourceToken {
  hash: string;
  token: string;
  createdAt: number;
  /** Null while it is the current token; set when rotated out. */
  expiresAt: number | null;
}

/** A rejected (or unstorable) request, kept for the source's log. */
export interface IngestLog {
  id: string;
  sourceId: string;
  statusCode: number;
  errorText: string;
  headers: Record<string, string>;
  payload: string;
  createdAt: number;
}

/** The schedule of a poll or cron source. */
export interface RunState {
  sourceId: string;
  /** When the next run is due; while a run holds the lease, when that lease ends. */
  nextRunAt: number;
  /** The scheduled time of the pending run: a run retried after a crash keeps it, so it emits the same event ids. */
  tickAt: number;
  /** Bumped by every claim; a run's results are saved only under the token it claimed with. */
  leaseToken: number;
  running: boolean;
  lastRunAt: number | null;
  lastOutcome: RunOutcomeKind | null;
  lastError: string | null;
  /** Failed runs in a row. */
  failures: number;
  etag: string | null;
  lastModified: string | null;
  /** Whether a polling source has taken its first look (which only remembers items). */
  primed: boolean;
}

/** What a run changes: its outcome, the next due time, validators and items seen. */
export interface RunResult {
  nextRunAt: number;
  /** The scheduled time of the next run: `nextRunAt`, or the current one kept when a failed run is retried. */
  tickAt: number;
  lastRunAt: number;
  lastOutcome: RunOutcomeKind;
  lastError: string | null;
  failures: number;
  /** Undefined keeps the stored value. */
  etag?: string | null;
  lastModified?: string | null;
  primed?: boolean;
  /** Items seen by this run (key and content hash); kept until not seen for `forgetBefore`. */
  items?: { key: string; hash: string }[];
  /** Items not seen since this time are forgotten. */
  forgetBefore?: number;
}

export interface IngestStore {
  /** Creates a source with its first token and, for scheduled types, its first due time. */
  createSource(s: SourceRecord, token: SourceToken, firstRunAt: number | null): Promise<void>;
  /** By id or uid. */
  getSource(idOrUid: string): Promise<SourceRecord | null>;
  listSources(q: PageQuery): Promise<Page<SourceRecord>>;
  /**
   * Saves a source. `schedule`: a time resets the run state (first run due then, memory of
   * items and validators dropped), null removes it, 'keep' leaves it as it is.
   */
  updateSource(s: SourceRecord, schedule: number | null | 'keep'): Promise<void>;
  /** Deletes the source with its tokens, logs, run state and items. */
  deleteSource(id: string): Promise<void>;

  /** The source whose current or still-valid token has this hash. */
  sourceByToken(hash: string, nowMs: number): Promise<SourceRecord | null>;
  currentToken(sourceId: string): Promise<SourceToken | null>;
  /**
   * Makes `token` current; the previous one stays valid until `graceUntil`. Refuses (false)
   * when `maxInGrace` rotated-out tokens are still valid at `nowMs`.
   */
  rotateToken(sourceId: string, token: SourceToken, graceUntil: number, nowMs: number, maxInGrace: number): Promise<boolean>;

  /** Appends log entries, keeping only the newest `keepPerSource` of each source. */
  addLogs(logs: IngestLog[], keepPerSource: number): Promise<void>;
  /** Newest first by default. */
  listLogs(sourceId: string, q: PageQuery): Promise<Page<IngestLog>>;

  runState(sourceId: string): Promise<RunState | null>;
  /** Scheduled sources due at `nowMs` (including expired leases). */
  dueRuns(nowMs: number, limit: number): Promise<{ sourceId: string; nextRunAt: number }[]>;
  /** The earliest due time of any scheduled source, or null. */
  nextRunAt(): Promise<number | null>;
  /**
   * Claims the run due at `expectedAt` (compare-and-set on the due time), leasing it until
   * `leaseUntil`. Null when another claimer got there first.
   */
  claimRun(sourceId: string, expectedAt: number, leaseUntil: number): Promise<RunState | null>;
  /** Saves a run's result under its lease token; false (nothing saved) when the lease was lost. */
  finishRun(sourceId: string, leaseToken: number, result: RunResult): Promise<boolean>;
  /** Makes every held lease due now (single-node start-up: no other node can hold one). */
  releaseRunLeases(nowMs: number): Promise<number>;
  /** The content hashes remembered for these item keys. */
  pollItems(sourceId: string, keys: string[]): Promise<Map<string, string>>;

}

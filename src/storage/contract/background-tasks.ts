/**
 * Storage of background tasks: long-running operations (recover, replay, bulk replay,
 * purging contents, usage aggregations) started by a request and finished later. A task is
 * stored when it starts, so it can be looked up by id and survives a restart.
 *
 * A running task has an owner (the node running it) and a lease the owner renews while it
 * runs. A task whose lease ran out (its owner died) is taken over by another node through
 * `claim`, atomically, so two nodes never both take it; an owner that lost its task can no
 * longer write its progress or end it.
 */
import type { Page, PageQuery } from './paging.js';

export type BackgroundTaskStatus = 'running' | 'finished' | 'failed';

/** The kinds of task, named as in the reference API. */
export type BackgroundTaskKind =
  | 'endpoint.replay'
  | 'endpoint.recover'
  | 'endpoint.bulk-replay'
  | 'application.stats'
  | 'application.purge_content'
  | 'event-type.aggregate';

export interface BackgroundTask {
  /** `qtask_...` */
  id: string;
  task: BackgroundTaskKind;
  status: BackgroundTaskStatus;
  /** The application the task works on; null for organisation-wide tasks. */
  appId: string | null;
  /** What the task was asked to do (the runner's input, kept to resume it after a restart). */
  params: Record<string, unknown>;
  /** Its result (or the reason it failed) once ended; its progress (`{progress: {done, total}}`) while running. */
  data: Record<string, unknown>;
  /** Where a resumed run continues from (the runner's own record, written with the progress); null before any. */
  checkpoint: Record<string, unknown> | null;
  /** The node running it; null when none holds it. */
  owner: string | null;
  /** Until when (epoch ms) the owner holds it; after that another node may take it over. */
  leaseUntil: number | null;
  createdAt: number;
  /** When it started, last recorded progress, or ended (lease renewals leave it). */
  updatedAt: number;
}

/** What a running task's owner writes as it goes. */
export interface TaskProgress {
  data: Record<string, unknown>;
  checkpoint: Record<string, unknown> | null;
}

export interface BackgroundTaskQuery extends PageQuery {
  status?: BackgroundTaskStatus | undefined;
  task?: BackgroundTaskKind | undefined;
}

export interface BackgroundTaskStore {
  create(t: BackgroundTask): Promise<void>;
  get(id: string): Promise<BackgroundTask | null>;
  /** Newest first by default. */
  list(q: BackgroundTaskQuery): Promise<Page<BackgroundTask>>;
  /**
   * Extends the lease of a task `owner` runs, and records its progress when given (which
   * moves `updatedAt`). False when the task is no longer the owner's: ended, or taken over.
   */
  renew(id: string, owner: string, leaseUntil: number, nowMs: number, progress?: TaskProgress): Promise<boolean>;
  /** Ends a running task `owner` holds; false when it was not (already ended, or taken over). */
  finish(id: string, owner: string, status: 'finished' | 'failed', data: Record<string, unknown>, nowMs: number): Promise<boolean>;
  /**
   * Takes the running tasks whose lease ended before `nowMs` (or every running task, with
   * `all`: on a store only this node uses, any lease was left by a previous run) for `owner`,
   * leased until `leaseUntil`, in one atomic write each: a task is taken by one node only.
   * Oldest first.
   */
  claim(owner: string, leaseUntil: number, nowMs: number, o?: { all?: boolean }): Promise<BackgroundTask[]>;
}

/**
 * Storage of background tasks: long-running operations (recover, replay, bulk replay,
 * purging contents, usage aggregations) started by a request and finished later. A task is
 * stored when it starts, so it can be looked up by id and survives a restart.
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
  /** Its result (or the reason it failed); `{}` while running. */
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
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
  /** Ends a running task; false when it was not running (already ended). */
  finish(id: string, status: 'finished' | 'failed', data: Record<string, unknown>, nowMs: number): Promise<boolean>;
  /** Every task still running, oldest first (to resume after a restart). */
  running(): Promise<BackgroundTask[]>;
}

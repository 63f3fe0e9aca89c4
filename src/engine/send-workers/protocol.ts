/**
 * What crosses between the main thread and a send worker. Both directions carry batches:
 * everything queued for (or answered by) a worker in one event-loop turn goes in one
 * message, so the cost of crossing is paid per turn rather than per delivery.
 */
import type { SendRequest, SendResult } from '../http-sender.js';

/** Settings a send worker starts with (plain data: `workerData`). */
export interface SendWorkerData {
  /** SWITCHBOARD_ALLOWED_NETWORKS as written; the worker parses it into its own guard. */
  allowedNetworks: string;
  /** Total time of one request, in ms. */
  timeoutMs: number;
}

/** One request to send, numbered by the pool so its result finds its way back. */
export interface SendJob {
  id: number;
  req: SendRequest;
}

/** One request's result. */
export interface SendAnswer {
  id: number;
  result: SendResult;
}

/** Main thread to worker. `exit` is a test hook: the worker ends itself with that code, as a crash would. */
export type ToWorker = { kind: 'send'; jobs: SendJob[] } | { kind: 'exit'; code: number };

/** Worker to main thread. */
export type FromWorker = { kind: 'ready' } | { kind: 'results'; answers: SendAnswer[] };

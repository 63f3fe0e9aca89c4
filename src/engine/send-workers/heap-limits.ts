/**
 * The V8 heap limits of a send worker. A worker keeps little alive (about 12 MB with 250
 * requests in flight: the request and response state of what it is sending) but allocates
 * fast (tens of KB per request: undici, headers, signing). Left at V8's defaults each worker
 * grew a 32 MB young generation and let its old generation fill with garbage to about four
 * times what was alive before collecting it, so two workers held up to ~140 MB during a
 * backlog drain for ~25 MB of live objects.
 *
 * - The young generation is capped at `YOUNG_GENERATION_MB` (4 MB semi-spaces): scavenges
 *   come more often, each as cheap (they copy only what is alive).
 * - The old generation's limit is the worker's worst case, so it can never be reached by
 *   legitimate work: every request it may be given at once (its share of the node's
 *   in-flight cap plus one turn's batch) at the largest payload, counted twice (a string with
 *   characters outside Latin-1 takes two bytes each), plus a fixed allowance. V8 lets the
 *   heap grow by a smaller factor over what is alive when its limit is lower: in the backlog
 *   drain a worker now collects at ~20-22 MB for ~12 MB alive, against ~48 MB under the
 *   default limit.
 */
import type { ResourceLimits } from 'node:worker_threads';

/** Young generation of a send worker, in MB (V8 splits it into two 4 MB semi-spaces and a large-object area). */
export const YOUNG_GENERATION_MB = 12;
/** Old generation a worker has beyond the request bodies it may hold: its code, undici, the state of its connections. */
export const OLD_GENERATION_BASE_MB = 128;

export interface HeapLimitInput {
  /** Send worker threads. */
  workers: number;
  /** Most delivery requests the node has in flight at a time (`SWITCHBOARD_MAX_INFLIGHT`). */
  maxInflight: number;
  /** Largest message body (`SWITCHBOARD_MAX_PAYLOAD_BYTES`). */
  maxPayloadBytes: number;
  /** Requests one turn may add to a worker beyond its share. */
  turnBatch: number;
}

/** The resource limits a send worker is started with. */
export function sendWorkerHeapLimits(o: HeapLimitInput): ResourceLimits {
  // Requests go to the worker with the fewest in flight, a turn's batch at a time.
  const heldAtOnce = Math.ceil(o.maxInflight / Math.max(1, o.workers)) + o.turnBatch;
  const bodiesMb = Math.ceil((2 * heldAtOnce * o.maxPayloadBytes) / (1024 * 1024));
  return { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_BASE_MB + bodiesMb };
}

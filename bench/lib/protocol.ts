/** Messages between the orchestrator and the receiver process (over the fork IPC channel). */
import type { LatencySummary } from './hist.js';

/** How the receiver answers requests on one path. */
export type RouteMode =
  | { kind: 'ok' }
  /** Accepts the request and never answers (the sender must time out). */
  | { kind: 'hang' }
  /** Answers 200 after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Answers with an error status (500 by default). */
  | { kind: 'fail'; status: number }
  /** Answers 429/503 with `Retry-After: seconds`. */
  | { kind: 'retry-after'; status: 429 | 503; seconds: number }
  /** Destroys the connection without answering (a crash mid-request). */
  | { kind: 'reset' };

export interface RouteConfig {
  mode: RouteMode;
  /** `whsec_...`: when set, every request's signature is verified with `standardwebhooks`. */
  secret?: string | undefined;
  /** Stats are also aggregated per group (e.g. "healthy", "bad"). */
  group: string;
}

export type ToReceiver =
  | { type: 'configure'; id: number; routes: Record<string, RouteConfig> }
  /** Starts one more listening socket (port 0: any free port). */
  | { type: 'listen'; id: number; port: number }
  /** Closes every listening socket and connection. */
  | { type: 'close'; id: number }
  | { type: 'reset'; id: number; phase: string }
  /** `light`: counts only (no latency percentiles, no timeline), cheap enough to poll often. */
  | { type: 'stats'; id: number; timeline: boolean; light: boolean };

export type FromReceiver =
  | { type: 'ready' }
  | { type: 'ack'; id: number; error?: string; port?: number }
  | { type: 'stats'; id: number; stats: ReceiverStats };

export interface CountStats {
  /** Requests received since the phase started (every attempt: duplicates, failures, other phase tags). */
  requests: number;
  /** Distinct webhook-id values of the current phase. */
  unique: number;
  /** Requests of the current phase whose webhook-id had already arrived on this path. */
  duplicates: number;
  /** Requests whose signature did not verify (or lacked headers). */
  verifyFailed: number;
  /** Requests carrying another phase tag (leftovers from an earlier phase). */
  stale: number;
  /** Publish-to-arrival latency of the first arrival of each message (arrival - payload.sentAt); null in light stats. */
  latency: LatencySummary | null;
  /** Wall-clock ms of the first and last arrival in the current phase. */
  firstAt: number | null;
  lastAt: number | null;
  /** First arrivals per 100 ms bucket since the phase started (only when asked for). */
  timeline?: number[];
}

export interface ReceiverStats {
  phase: string;
  /** Wall-clock ms when the phase was reset. */
  phaseStart: number;
  listening: boolean;
  paths: Record<string, CountStats>;
  groups: Record<string, CountStats>;
}

export const TIMELINE_BUCKET_MS = 100;

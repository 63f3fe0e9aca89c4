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

/** What a pull client process does (bench/puller.ts). */
export type PullJob =
  /**
   * Long polling in a loop: `GET path?wait=&limit=&iterator=` (the iterator of the previous
   * answer is passed back, which also commits it on a consumer read).
   */
  | { kind: 'long-poll'; group: string; baseUrl: string; path: string; token: string; waitSec: number; limit: number }
  /** One Server-Sent Events stream, each event timestamped as it is parsed; reconnects with Last-Event-ID. */
  | { kind: 'sse'; group: string; baseUrl: string; path: string; token: string }
  /** `count` idle SSE connections on plain sockets (`concurrency` being opened at once); nothing is parsed. */
  | { kind: 'idle-sse'; group: string; baseUrl: string; path: string; token: string; count: number; concurrency: number };

export type ToPuller =
  /** Starts a job; answered once it is reading (first answer or stream preamble) or every idle connection is open. */
  | { type: 'start'; id: number; job: PullJob }
  | { type: 'reset'; id: number; phase: string }
  /** `arrivals`: also every first arrival's payload `seq` and wall time (`PullGroupStats.arrivals`). */
  | { type: 'stats'; id: number; light: boolean; arrivals?: boolean }
  /** Ends every job and closes every connection. */
  | { type: 'close'; id: number };

export type FromPuller =
  | { type: 'ready' }
  | { type: 'ack'; id: number; error?: string; info?: Record<string, number> }
  | { type: 'stats'; id: number; stats: PullerStats };

export interface PullGroupStats extends CountStats {
  /** Reads answered (polls, or stream connections made). */
  reads: number;
  /** Failed reads or broken streams, by status or error code. */
  errors: Record<string, number>;
  /** When asked: first arrivals of the phase as flat pairs `[seq, wallMs, seq, wallMs, ...]`. */
  arrivals?: number[];
}

export interface PullerStats {
  phase: string;
  phaseStart: number;
  groups: Record<string, PullGroupStats>;
  /** Idle SSE connections: open now, failed to open, ended by the server. */
  idle: { open: number; failed: number; ended: number; errors: Record<string, number> };
}

/**
 * Storage of the pull side: the message log read by position (`seq`), polling endpoints,
 * their consumers' cursors and poller tokens. See docs/pull.md for what an implementation
 * must guarantee.
 */
import type { Message, Metadata } from '../../domain/model.js';
import type { Page, PageQuery } from './paging.js';

/** A sink of an application's messages that consumers read by pulling. */
export interface PollingEndpoint {
  id: string;
  appId: string;
  uid: string | null;
  description: string;
  /** Only these event types; null means all. */
  eventTypes: string[] | null;
  /** Only messages sharing one of these channels; null means all. */
  channels: string[] | null;
  metadata: Metadata;
  createdAt: number;
  updatedAt: number;
}

/** A message with its position in the log. */
export interface SequencedMessage {
  seq: number;
  message: Message;
}

/**
 * Which messages a read returns. Each list present must match (event type in `eventTypes`,
 * a channel in `channels`, a tag in `tags`); an empty list matches nothing.
 */
export interface LogFilter {
  eventTypes?: readonly string[] | null | undefined;
  channels?: readonly string[] | null | undefined;
  tags?: readonly string[] | null | undefined;
}

export interface LogRead {
  /** Messages of the application with seq > `after` that match, in seq order, at most `limit`. */
  messages: SequencedMessage[];
  /** True if more matching messages follow the last one returned. */
  more: boolean;
  /**
   * The highest seq of this application ever deleted, read after the messages: if it is
   * above `after`, the read may have skipped a deleted message.
   */
  horizon: number;
}

export interface PollerToken {
  id: string;
  pollingEndpointId: string;
  appId: string;
  /** Hex SHA-256 of the token: how a request's token is found. */
  tokenHash: string;
  token: string;
  createdAt: number;
  expiresAt: number | null;
}

export interface PullStore {
  /** Creates a polling endpoint with its first token; a duplicate uid is a conflict (409). */
  createPollingEndpoint(p: PollingEndpoint, token: PollerToken): Promise<void>;
  /** By id or uid, within the application. */
  getPollingEndpoint(appId: string, idOrUid: string): Promise<PollingEndpoint | null>;
  listPollingEndpoints(appId: string, q: PageQuery): Promise<Page<PollingEndpoint>>;
  /** Saves every field; a duplicate uid is a conflict (409). */
  updatePollingEndpoint(p: PollingEndpoint): Promise<void>;
  /** Deletes the endpoint with its consumers and tokens. */
  deletePollingEndpoint(appId: string, id: string): Promise<void>;

  /** Reads the log after a position (see `LogRead`). */
  readLog(appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead>;
  /** The highest seq assigned so far, over all applications (every position up to it is final). */
  head(): Promise<number>;
  /** The application's retention horizon: the highest of its seqs ever deleted, or 0. */
  horizon(appId: string): Promise<number>;
  /**
   * The position just before the application's first message created after `timeMs`, so
   * that reading after it returns exactly the messages created after that time.
   */
  positionAt(appId: string, timeMs: number): Promise<number>;

  /** A consumer's committed cursor, or null if it has never read. */
  getCursor(pollingEndpointId: string, consumerId: string): Promise<number | null>;
  /** Commits a consumer's cursor, creating the consumer if needed. */
  setCursor(pollingEndpointId: string, consumerId: string, cursor: number, nowMs: number): Promise<void>;

  /** The newest token of the polling endpoint. */
  currentToken(pollingEndpointId: string): Promise<PollerToken | null>;
  findToken(tokenHash: string): Promise<PollerToken | null>;
  /**
   * Rotation in one transaction: older tokens of the endpoint expire at `oldExpiresAt` at
   * the latest, tokens already expired at `nowMs` are dropped, and `token` is added.
   */
  rotateToken(token: PollerToken, oldExpiresAt: number, nowMs: number): Promise<void>;
}

/**
 * How far after a time `positionAt` looks for the earliest position. A message's id carries
 * its creation time, but it commits a little later: one created just after the time may
 * commit after one created later still. Publishing takes far less than this.
 */
export const POSITION_WINDOW_MS = 60_000;

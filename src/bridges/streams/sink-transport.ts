/**
 * What the sink dispatcher hands a sink type: a batch of events, delivered all or nothing.
 * `deliver` resolves only when the destination has durably taken every event of the batch
 * (a 2xx, publisher confirms, XADD replies, PUBACKs); it rejects with a SinkDeliveryError
 * otherwise, and the dispatcher retries the whole batch later (so a destination may see a
 * batch twice; event ids let it dedupe).
 */

/** One event as it leaves Switchboard. */
export interface SinkEvent {
  /** `evt_...`: stable across retries (NATS JetStream dedupes on it). */
  id: string;
  eventType: string;
  /** The payload text as stored (after the sink's transformation, when it has one). */
  payload: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Position in the stream's log. */
  seq: number;
}

/** A sink as a transport needs it: the decoded config and the signing material. */
export interface SinkTarget {
  id: string;
  streamId: string;
  type: string;
  config: Record<string, unknown>;
  /** `whsec_...`: HTTP sinks sign each batch with it (Standard Webhooks). */
  secret: string;
  headers: Record<string, string>;
}

export class SinkDeliveryError extends Error {
  constructor(
    message: string,
    /** An HTTP status or broker reply code, when there is one. */
    readonly status: number | null = null,
    /** False when retrying cannot help until the sink is changed (bad credentials, unknown exchange). */
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'SinkDeliveryError';
  }
}

/** An open connection to one sink's destination; reused across batches, reopened after a failure. */
export interface SinkTransport {
  deliver(events: SinkEvent[]): Promise<void>;
  close(): Promise<void>;
}

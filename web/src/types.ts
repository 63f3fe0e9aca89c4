/** Shapes of the API's responses, as far as the UI reads them. */

export interface Application {
  id: string;
  uid?: string;
  name: string;
  rateLimit?: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface EventType {
  name: string;
  description: string;
  archived: boolean;
  deprecated: boolean;
  featureFlag?: string;
  schemas?: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Endpoint {
  id: string;
  uid?: string;
  url: string;
  description: string;
  disabled?: boolean;
  filterTypes?: string[];
  channels?: string[];
  rateLimit?: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointStats {
  success: number;
  pending: number;
  sending: number;
  fail: number;
}

/** One circuit breaker as the serving node sees it (GET .../endpoint/{id}/circuit). */
export interface CircuitState {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  openedAt: string | null;
  nextProbeAt: string | null;
}

export interface EndpointCircuit {
  endpoint: CircuitState;
  origin: (CircuitState & { origin: string }) | null;
}

export interface Message {
  id: string;
  eventType: string;
  eventId?: string;
  channels?: string[];
  tags?: string[];
  payload: unknown;
  timestamp: string;
}

/** 0 success, 1 pending, 2 fail, 3 sending. */
export type Status = 0 | 1 | 2 | 3;

export interface Attempt {
  id: string;
  msgId: string;
  endpointId: string;
  url: string;
  status: Status;
  statusText?: string;
  response: string;
  responseStatusCode: number;
  responseDurationMs: number;
  triggerType: 0 | 1;
  timestamp: string;
}

export interface Destination extends Endpoint {
  status: Status;
  nextAttempt?: string;
}

export interface EndpointMessage extends Message {
  status: Status;
  nextAttempt?: string;
}

export interface StatsBucket {
  start: string;
  success: number;
  failure: number;
  avgDurationMs: number | null;
  maxDurationMs: number | null;
}

export interface AppOverview {
  since: string;
  until: string;
  bucketSeconds: number;
  totalSuccess: number;
  totalFailure: number;
  series: StatsBucket[];
  queue: { pending: number; sending: number; oldestPendingAt: string | null };
}

export interface PollingEndpoint {
  id: string;
  uid?: string;
  description?: string;
  filterTypes?: string[];
  channels?: string[];
  createdAt?: string;
}

export interface PolledMessage {
  id: string;
  eventType: string;
  eventId?: string;
  payload: unknown;
  timestamp: string;
}

export interface IngestSource {
  id: string;
  uid?: string;
  name: string;
  type: string;
  ingestUrl?: string | null;
  config?: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  [extra: string]: unknown;
}

export interface IngestLog {
  id: string;
  source_id: string;
  status_code: number;
  error_text: string;
  headers: Record<string, string>;
  payload: string;
  created_at: string;
}

/** A background task (recover, replays, purge of contents, usage aggregations) with its result once it ends. */
export interface BackgroundTask {
  id: string;
  status: 'running' | 'finished' | 'failed';
  task: string;
  updatedAt: string;
  data?: Record<string, unknown>;
}

export interface Stream {
  id: string;
  uid?: string | null;
  name?: string | null;
  description?: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A stream sink; extension sinks (redis, natsJetStream, mqtt) carry their real type and config in `extension`. */
export interface Sink {
  id: string;
  uid?: string | null;
  type: string;
  config?: Record<string, unknown>;
  extension?: { type: string; config: Record<string, unknown> };
  batchSize: number;
  maxWaitSecs: number;
  eventTypes?: string[];
  status: 'enabled' | 'paused' | 'disabled' | 'retrying';
  failureReason?: string | null;
  nextRetryAt?: string | null;
  currentIterator: string;
  createdAt: string;
  updatedAt: string;
}

export interface SinkAttempt {
  id: string;
  firstIterator: string;
  lastIterator: string;
  count: number;
  outcome: 'success' | 'failure';
  responseStatus?: number | null;
  error?: string | null;
  durationMs: number;
  createdAt: string;
}

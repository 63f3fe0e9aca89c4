/**
 * Prometheus metrics (prom-client), one registry per Switchboard instance.
 *
 * Delivery metrics come from `diagnostics_channel` events published by the dispatcher and
 * services; queue depth is read from the store at scrape time; features without events of
 * their own (ingest, polling sources, long polls and streams) call the methods below.
 * Every label has a fixed or capped set of values: no per-id labels.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../domain/clock.js';
import { onAttempt, onCircuit, onEndpointState } from '../engine/channels.js';
import type { AttemptEvent } from '../engine/channels.js';
import type { EventBus } from '../engine/event-bus.js';
import type { QueueStats, Store } from '../storage/contract/store.js';

export interface MetricsOptions {
  store: Store;
  clock: Clock;
  bus: EventBus;
  /** Deliveries in flight on this node. */
  inflight?: () => number;
  /** Circuits open and half-open on this node, by kind. */
  circuits?: () => Record<'endpoint' | 'origin', { open: number; halfOpen: number }>;
  /** Include Node.js process metrics (CPU, memory, event loop, GC). */
  processMetrics?: boolean;
}

/** Kinds of held-open pull connections. */
export type ConnectionKind = 'long_poll' | 'sse';

/** Most distinct values one label may take; later ones are counted as `other`. */
export const MAX_LABEL_VALUES = 50;

/** Keeps a label's values few and tame: `[a-z0-9_.-]`, at most 64 characters, at most MAX_LABEL_VALUES values. */
export class LabelGuard {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max = MAX_LABEL_VALUES,
    /** Off for values that are already tame (route patterns, HTTP methods). */
    private readonly sanitise = true,
  ) {}

  value(raw: string): string {
    const v = (this.sanitise ? raw.toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').slice(0, 64) : raw.slice(0, 256)) || 'none';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(v);
    return v;
  }
}

const statusClass = (code: number): string => (code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : 'none');

/** How long queue counts read at one scrape are reused by the other gauges of that scrape. */
const QUEUE_SNAPSHOT_MS = 500;

export class Metrics {
  readonly registry = new Registry();
  private readonly unsubscribe: (() => void)[] = [];
  private snapshot: { at: number; stats: Promise<QueueStats> } | null = null;

  private readonly messagesAccepted: Counter;
  private readonly attempts: Counter<'outcome' | 'status_class' | 'trigger'>;
  private readonly attemptDuration: Histogram<'outcome'>;
  private readonly deliveries: Counter<'outcome'>;
  private readonly endpointChanges: Counter<'kind' | 'trigger'>;
  private readonly circuitTransitions: Counter<'kind' | 'to'>;
  private readonly ingest: Counter<'provider' | 'outcome' | 'reason'>;
  private readonly sourceRuns: Counter<'kind' | 'outcome'>;
  private readonly sourceErrors: Counter<'kind' | 'reason'>;
  private readonly connections: Gauge<'kind'>;
  private readonly httpRequests: Counter<'method' | 'route' | 'status_class'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly purged: Counter;
  private readonly operational: Counter<'event_type' | 'outcome'>;
  private readonly authFailures: Counter<'reason'>;
  private readonly authThrottled: Counter<'scope'>;
  private readonly sinkEvents: Counter<'type'>;
  private readonly sinkDeliveries: Counter<'type' | 'outcome'>;
  private readonly sinkDuration: Histogram<'type'>;
  private readonly guards = new Map<string, LabelGuard>();

  constructor(private readonly o: MetricsOptions) {
    const registers = [this.registry];
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.messagesAccepted = new Counter({ name: 'switchboard_messages_accepted_total', help: 'Messages accepted (committed) by the publish API.', registers });
    this.attempts = new Counter({
      name: 'switchboard_delivery_attempts_total',
      help: 'Delivery attempts by outcome (delivered, retry, failed), response status class and trigger.',
      labelNames: ['outcome', 'status_class', 'trigger'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'switchboard_delivery_attempt_duration_seconds',
      help: 'Duration of delivery attempts (request sent to response read), by outcome.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.deliveries = new Counter({
      name: 'switchboard_deliveries_total',
      help: 'Deliveries that reached a final state: delivered, or failed (retries exhausted, aborted, endpoint disabled).',
      labelNames: ['outcome'],
      registers,
    });
    this.endpointChanges = new Counter({
      name: 'switchboard_endpoint_state_changes_total',
      help: 'Endpoints disabled or enabled, automatically (410 Gone, failing too long) or by a caller.',
      labelNames: ['kind', 'trigger'],
      registers,
    });
    // Null while the database does not answer: the queue gauges then give no figure rather
    // than a stale one, and the rest of the scrape (the storage health among it) is served.
    const snapshot = (): Promise<QueueStats | null> => this.queueSnapshot().catch(() => null);
    const clock = o.clock;
    new Gauge({
      name: 'switchboard_queue_deliveries',
      help: 'Deliveries in the queue by state: due (waiting to be sent now), scheduled (retries due later), sending (leased, in flight).',
      labelNames: ['state'],
      registers,
      async collect() {
        const s = await snapshot();
        if (!s) return this.reset();
        this.set({ state: 'due' }, s.due);
        this.set({ state: 'scheduled' }, s.scheduled);
        this.set({ state: 'sending' }, s.sending);
      },
    });
    new Gauge({
      name: 'switchboard_queue_oldest_due_age_seconds',
      help: 'How long the longest-waiting due delivery has been due; 0 when nothing is due.',
      registers,
      async collect() {
        const s = await snapshot();
        if (!s) return this.reset();
        this.set(s.oldestDueAt === null ? 0 : Math.max(0, clock.now() - s.oldestDueAt) / 1000);
      },
    });
    const inflight = o.inflight;
    if (inflight) {
      new Gauge({
        name: 'switchboard_inflight_deliveries',
        help: 'Delivery requests in flight from this node.',
        registers,
        collect() {
          this.set(inflight());
        },
      });
    }
    const circuits = o.circuits;
    if (circuits) {
      new Gauge({
        name: 'switchboard_circuits',
        help: 'Circuit breakers of this node that are not closed, by kind (endpoint, origin) and state (open, half_open).',
        labelNames: ['kind', 'state'],
        registers,
        collect() {
          const c = circuits();
          for (const kind of ['endpoint', 'origin'] as const) {
            this.set({ kind, state: 'open' }, c[kind].open);
            this.set({ kind, state: 'half_open' }, c[kind].halfOpen);
          }
        },
      });
    }
    this.circuitTransitions = new Counter({
      name: 'switchboard_circuit_transitions_total',
      help: 'Circuit breaker transitions on this node, by kind (endpoint, origin) and the state entered (open, half_open, closed).',
      labelNames: ['kind', 'to'],
      registers,
    });
    this.ingest = new Counter({
      name: 'switchboard_ingest_requests_total',
      help: 'Requests received by ingest sources, by provider, outcome (accepted, duplicate, rejected) and rejection reason.',
      labelNames: ['provider', 'outcome', 'reason'],
      registers,
    });
    this.sourceRuns = new Counter({
      name: 'switchboard_source_runs_total',
      help: 'Runs of polling and cron sources, by kind and outcome (changed, unchanged, error).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.sourceErrors = new Counter({
      name: 'switchboard_source_errors_total',
      help: 'Failed runs of polling and cron sources, by kind and reason.',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.connections = new Gauge({
      name: 'switchboard_open_connections',
      help: 'Pull connections held open: long polls waiting and SSE streams.',
      labelNames: ['kind'],
      registers,
    });
    this.connections.set({ kind: 'long_poll' }, 0);
    this.connections.set({ kind: 'sse' }, 0);
    this.httpRequests = new Counter({
      name: 'switchboard_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'switchboard_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 35],
      registers,
    });
    this.authFailures = new Counter({
      name: 'switchboard_auth_failures_total',
      help: 'Failed authentications: no bearer token (missing_token), one that is not valid (invalid_token), a wrong OAuth client secret (invalid_client_secret).',
      labelNames: ['reason'],
      registers,
    });
    this.authThrottled = new Counter({
      name: 'switchboard_auth_throttled_total',
      help: 'Requests refused 429 before their token was checked, because their client address or credential had failed too often.',
      labelNames: ['scope'],
      registers,
    });
    this.sinkEvents = new Counter({
      name: 'switchboard_sink_events_delivered_total',
      help: 'Stream events a sink destination took (batches that succeeded), by sink type.',
      labelNames: ['type'],
      registers,
    });
    this.sinkDeliveries = new Counter({
      name: 'switchboard_sink_deliveries_total',
      help: 'Batches sent to sinks, by sink type and outcome (success, failure).',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.sinkDuration = new Histogram({
      name: 'switchboard_sink_delivery_seconds',
      help: 'Time to deliver a batch to a sink (sent to taken, or failed), by sink type.',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.purged = new Counter({ name: 'switchboard_retention_purged_messages_total', help: 'Messages deleted by retention, with their deliveries and attempts.', registers });
    this.operational = new Counter({
      name: 'switchboard_operational_webhooks_total',
      help: 'Operational webhook requests, by event type and outcome (delivered, retry, failed).',
      labelNames: ['event_type', 'outcome'],
      registers,
    });
  }

  /** Subscribes to the instance's events. */
  start(): void {
    const scope = this.o.store;
    this.unsubscribe.push(
      this.o.bus.on((e) => {
        if (e.kind === 'messages.published' && !e.remote) this.messagesAccepted.inc(e.messages.length);
      }),
      onAttempt(scope, (e) => this.attempted(e)),
      onEndpointState(scope, (e) => this.endpointChanges.inc({ kind: e.kind, trigger: e.trigger })),
      onCircuit(scope, (e) => this.circuitTransitions.inc({ kind: e.kind, to: e.to === 'half-open' ? 'half_open' : e.to })),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private attempted(e: AttemptEvent): void {
    this.attempts.inc({ outcome: e.outcome, status_class: statusClass(e.statusCode), trigger: e.trigger });
    this.attemptDuration.observe({ outcome: e.outcome }, e.durationMs / 1000);
    if (e.outcome !== 'retry') this.deliveries.inc({ outcome: e.outcome });
  }

  private queueSnapshot(): Promise<QueueStats> {
    const now = this.o.clock.now();
    if (!this.snapshot || now - this.snapshot.at > QUEUE_SNAPSHOT_MS || now < this.snapshot.at) {
      this.snapshot = { at: now, stats: this.o.store.queueStats(now) };
    }
    return this.snapshot.stats;
  }

  private label(metric: string, raw: string): string {
    let g = this.guards.get(metric);
    // Route patterns are bounded by the route table, which is larger than the default cap.
    if (!g) this.guards.set(metric, (g = metric === 'route' || metric === 'method' ? new LabelGuard(1000, false) : new LabelGuard()));
    return g.value(raw);
  }

  // ---- for features: ingest, polling sources, pull connections, HTTP, housekeeping

  /** An ingest source accepted a request (`duplicate`: accepted but already seen). */
  ingestAccepted(provider: string, duplicate = false): void {
    this.ingest.inc({ provider: this.label('provider', provider), outcome: duplicate ? 'duplicate' : 'accepted', reason: 'none' });
  }

  /** An ingest source refused a request; `reason` is a short fixed word such as `signature` or `timestamp`. */
  ingestRejected(provider: string, reason: string): void {
    this.ingest.inc({ provider: this.label('provider', provider), outcome: 'rejected', reason: this.label('ingest_reason', reason) });
  }

  /** A polling or cron source ran; `error` runs also count in the errors metric with their reason. */
  sourceRun(kind: 'poll' | 'cron', outcome: 'changed' | 'unchanged' | 'error', errorReason?: string): void {
    this.sourceRuns.inc({ kind, outcome });
    if (outcome === 'error') this.sourceErrors.inc({ kind, reason: this.label('source_reason', errorReason ?? 'unknown') });
  }

  /** A request was refused 401: `missing_token`, `invalid_token`, or `invalid_client_secret` at the OAuth token endpoint. */
  authFailure(reason: 'missing_token' | 'invalid_token' | 'invalid_client_secret'): void {
    this.authFailures.inc({ reason });
  }

  /** A request was refused 429 by the throttle of failed authentications. */
  authThrottle(scope: 'address' | 'credential'): void {
    this.authThrottled.inc({ scope });
  }

  /** A long poll or SSE stream opened; call the returned function (once or more) when it closes. */
  connectionOpened(kind: ConnectionKind): () => void {
    this.connections.inc({ kind });
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.connections.dec({ kind });
    };
  }

  /** An HTTP request was answered; `route` is the route pattern, never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const m = this.label('method', method);
    const r = this.label('route', route);
    this.httpRequests.inc({ method: m, route: r, status_class: statusClass(status) });
    this.httpDuration.observe({ method: m, route: r }, seconds);
  }

  /** Retention deleted messages. */
  retentionPurged(messages: number): void {
    if (messages > 0) this.purged.inc(messages);
  }

  /** An operational webhook request ended. */
  /** A batch of stream events was sent to a sink (the sink dispatcher's observer). */
  sinkDelivered(r: { type: string; outcome: 'success' | 'failure'; events: number; seconds: number }): void {
    const type = this.label('sink_type', r.type);
    this.sinkDeliveries.inc({ type, outcome: r.outcome });
    if (r.outcome === 'success') this.sinkEvents.inc({ type }, r.events);
    this.sinkDuration.observe({ type }, r.seconds);
  }

  operationalWebhook(eventType: string, outcome: 'delivered' | 'retry' | 'failed'): void {
    this.operational.inc({ event_type: this.label('operational_event', eventType), outcome });
  }
}

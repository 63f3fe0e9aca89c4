/**
 * The dispatcher: takes leased deliveries, sends them, records each attempt and
 * schedules what comes next.
 *
 * Deliveries reach it two ways. On publish, a delivery whose endpoint has a free slot
 * and a rate token is inserted already leased to this node and handed over once committed
 * (`AdmissionControl`: no claim query on the hot path). Everything else (retries, backlog
 * behind a rate limit or concurrency cap, leases left by a crash) is claimed from the
 * store by `DueClaims`, one endpoint at a time, when `DueSweep` or a notice says it is due.
 *
 * Slots are capped per endpoint, per application and per node, and applications waiting for
 * slots are served in turn, so one application's burst or dead endpoints never hold another
 * application's deliveries. An endpoint's slot is given back when its request ends, the
 * application's and the node's when the attempt is recorded. Circuit breakers (per endpoint
 * and per origin) learn from every attempt's response; while one is open nothing is sent
 * through it and its due deliveries wait in the store without using attempts.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { DeliveryStatus, TriggerType } from '../domain/model.js';
import type { Endpoint } from '../domain/model.js';
import type { AttemptRecord, ClaimedDelivery, LeaseRef, RecordedAttempts, Store } from '../storage/contract/store.js';
import type { Admission, AdmissionControl, Settlement } from './admission.js';
import { AttemptRunner } from './attempt-runner.js';
import { AttemptWriter } from './attempt-writer.js';
import { publishCircuit } from './channels.js';
import { CircuitBreakers, originOf } from './circuit-breaker.js';
import type { CircuitSettings, CircuitState, CircuitTransition } from './circuit-breaker.js';
import { circuitSignals } from './circuit-signal.js';
import { DeliverySlots } from './delivery-slots.js';
import type { EndpointSlots } from './delivery-slots.js';
import { DueClaims } from './due-claims.js';
import { DueSweep } from './due-sweep.js';
import { OrderedEndpoints } from './ordered-claims.js';
import type { Sender } from './http-sender.js';
import type { Transformer } from './transformations/transformer.js';

export interface DispatcherOptions {
  store: Store;
  sender: Sender;
  clock: Clock;
  logger: Logger;
  retrySchedule: readonly number[];
  endpointConcurrency: number;
  maxInflight: number;
  /** Deliveries of one application sent at a time (default: `maxInflight`). */
  appMaxInflight?: number;
  /** Circuit breakers; without them a threshold of 5 failures, 10 s cool-down up to 10 min. */
  circuit?: Omit<CircuitSettings, 'probeTimeoutMs'>;
  /** How long a lease lasts; longer than a request can take. */
  leaseMs: number;
  disableAfterMs: number;
  /** Safety-net sweep for due work, in ms. */
  sweepIntervalMs?: number;
  /** Runs endpoint transformations before sending; without it they are not applied. */
  transformer?: Transformer;
  random?: () => number;
  userAgent?: string;
}

/** The breakers' defaults, used when the options do not say. */
export const DEFAULT_CIRCUIT = { threshold: 5, cooldownMs: 10_000, maxCooldownMs: 600_000 } as const;

/** Most ended requests waiting for their record that the caps counted across nodes leave out (beyond, they count as live). */
const ENDED_REQUESTS_LISTED = 1000;

/** What the API shows of an endpoint's circuits on this node. */
export interface EndpointCircuits {
  endpoint: CircuitState;
  origin: (CircuitState & { origin: string }) | null;
}

export class Dispatcher implements AdmissionControl {
  private readonly slots: DeliverySlots;
  private readonly breakers: CircuitBreakers;
  private readonly claims: DueClaims;
  private readonly sweep: DueSweep;
  private readonly writer: AttemptWriter;
  private readonly attempts: AttemptRunner;
  private readonly ordered: OrderedEndpoints;
  private stopping = false;
  private started = false;
  private shutdownDeadlinePassed = false;
  /** Leases of deliveries being sent, given back if shutdown cannot wait for them. */
  private readonly inflightRefs = new Map<number, LeaseRef>();
  /**
   * Deliveries launched whose request has not ended yet, with their endpoint's record: they
   * hold a slot of it, so it is that endpoint's record until they give it back.
   */
  private readonly requesting = new Map<ClaimedDelivery, EndpointSlots>();
  private idleWaiters: (() => void)[] = [];
  /** Called when an attempt disables an endpoint (410 Gone, failing too long). */
  onEndpointDisabled: (endpointId: string, appId: string) => void = () => {};

  constructor(private readonly o: DispatcherOptions) {
    const { store, clock, logger } = o;
    this.slots = new DeliverySlots(clock, o.endpointConcurrency, o.maxInflight, o.appMaxInflight ?? o.maxInflight);
    this.breakers = new CircuitBreakers(clock, { ...DEFAULT_CIRCUIT, ...o.circuit, probeTimeoutMs: o.leaseMs }, (t) => this.circuitChanged(t));
    this.ordered = new OrderedEndpoints(store);
    this.claims = new DueClaims({ store, clock, logger, slots: this.slots, breakers: this.breakers, leaseMs: o.leaseMs, launch: (c) => this.launch(c), ordered: this.ordered, slotsFreed: () => this.notifyIdle() });
    this.sweep = new DueSweep({ store, clock, logger, intervalMs: o.sweepIntervalMs ?? 5000, onDue: (id) => this.backlogged(id) });
    this.writer = new AttemptWriter(store, logger, (records, recorded) => this.afterRecorded(records, recorded));
    this.attempts = new AttemptRunner({
      sender: o.sender,
      clock,
      logger,
      writer: this.writer,
      policy: { retrySchedule: o.retrySchedule, disableAfterMs: o.disableAfterMs },
      random: o.random ?? Math.random,
      userAgent: o.userAgent ?? 'Switchboard-Webhooks/0.1',
      transformer: o.transformer,
      scope: store,
      abandoned: () => this.stopping && this.shutdownDeadlinePassed,
      requestEnded: (c, record) => this.requestEnded(c, record),
    });
    // Other nodes' caps count this node's leases until their attempts are recorded; those
    // whose request has ended no longer hold a request at the endpoint.
    store.cluster?.countEndedRequests(() => this.writer.unrecorded(ENDED_REQUESTS_LISTED));
  }

  /** Releases leases left by a previous run of this single node and looks for due work. */
  async start(opts: { releaseOrphanedLeases: boolean }): Promise<void> {
    this.started = true;
    if (opts.releaseOrphanedLeases) {
      const n = await this.o.store.releaseAllLeases(this.o.clock.now());
      if (n > 0) this.o.logger.info({ deliveries: n }, 'released leases left by the previous run');
    }
    this.sweep.schedule(0);
  }

  /** Deliveries currently being sent. */
  get inflightCount(): number {
    return this.slots.inflight;
  }

  /** Open and half-open circuits on this node, by kind. */
  circuitCounts(): ReturnType<CircuitBreakers['openCounts']> {
    return this.breakers.openCounts();
  }

  /** The circuits a delivery to this endpoint passes through on this node. */
  circuitsOf(endpoint: Pick<Endpoint, 'id' | 'url'>): EndpointCircuits {
    const origin = originOf(endpoint.url);
    return { endpoint: this.breakers.endpointState(endpoint.id), origin: origin === null ? null : { origin, ...this.breakers.originState(origin) } };
  }

  /**
   * Takes a slot for a delivery being published when one is free (the endpoint's, its
   * application's and the node's caps, a rate token, closed circuits), so it is inserted
   * already leased.
   */
  admit(endpoint: Endpoint, now: number): Admission {
    if (this.stopping || !this.started) return { kind: 'backlog', endpoint };
    // Ordered endpoints' deliveries are claimed in order from the store (ordered-claims.ts).
    if (this.ordered.note(endpoint)) return { kind: 'backlog', endpoint };
    const s = this.slots.learn(endpoint);
    this.slots.applyRate(s, endpoint.throttleRate);
    // No room here (the endpoint's, its application's or the node's cap, a rate token): other
    // nodes are told of the delivery, they may have room.
    if (this.slots.capacity(s) < 1) return { kind: 'backlog', endpoint };
    // An open circuit's deliveries wait in the store; a half-open one's probe is claimed from there.
    if (this.breakers.permit(endpoint.id, s.origin).kind !== 'send') return { kind: 'backlog', endpoint };
    // Older due deliveries go first; this node, with room, claims them and this one. Telling
    // other nodes would only have them claim for the endpoint too, so that their own publishes
    // would wait behind a backlog as well and tell this node of theirs, and so on.
    if (s.backlog) return { kind: 'backlog', endpoint, claimedHere: true };
    this.slots.take(s);
    return { kind: 'leased', endpoint, leaseUntil: now + this.o.leaseMs };
  }

  /** Sends what was committed leased, backlogs the rest, and gives back unused slots. */
  settle(settlement: Settlement): void {
    if (settlement.kind === 'rolled-back') {
      for (const a of settlement.admissions) if (a.kind === 'leased') this.giveBack(a.endpoint.id);
      return;
    }
    const { message, app, admissions, inserted } = settlement;
    const leased: ClaimedDelivery[] = [];
    for (const [i, d] of inserted.entries()) {
      const a = admissions[i]!;
      if (a.kind === 'leased' && d.leaseToken > 0) {
        leased.push({ deliveryId: d.deliveryId, leaseToken: d.leaseToken, attempts: 0, trigger: TriggerType.Scheduled, message, endpoint: a.endpoint, app });
      } else {
        // A store shared by several nodes refuses the lease when other nodes use the endpoint's caps.
        if (a.kind === 'leased') this.giveBack(a.endpoint.id);
        this.backlogged(a.endpoint.id);
      }
    }
    for (const c of leased) this.launch(c);
  }

  /** The store holds due deliveries for this endpoint that are not in memory. */
  backlogged(endpointId: string): void {
    if (!this.started) return; // a node that does not send (role api) claims nothing
    this.claims.backlogged(endpointId);
  }

  /** Some delivery may have fallen due: look in the store. */
  wake(): void {
    if (!this.started) return;
    this.sweep.schedule(0);
  }

  /** Gives back a slot taken at admission that nothing was sent under. */
  private giveBack(endpointId: string): void {
    this.slots.untake(this.slots.of(endpointId));
    this.claims.request(endpointId);
    this.claims.kick();
    this.notifyIdle();
  }

  /**
   * Sends one leased delivery; its slot is already counted. The endpoint's part of the slot
   * is given back when the request ends, the application's and the node's once the attempt is
   * recorded.
   */
  private launch(c: ClaimedDelivery): void {
    const s = this.slots.of(c.endpoint.id);
    this.inflightRefs.set(c.deliveryId, { appId: c.app.id, deliveryId: c.deliveryId, leaseToken: c.leaseToken });
    this.requesting.set(c, s);
    void this.attempts
      .run(c)
      .catch((e: unknown) => this.o.logger.error({ err: e, deliveryId: c.deliveryId }, 'delivery attempt crashed'))
      .finally(() => {
        this.inflightRefs.delete(c.deliveryId);
        this.endpointSlotFreed(c);
        this.slots.releaseShared(s);
        // Waiting applications may use the application's and the node's slot now.
        this.claims.kick();
        this.notifyIdle();
      });
  }

  /**
   * A request ended: its circuits learn how it went, and its endpoint's slot goes to the next
   * application waiting, in turn, then to this endpoint's backlog, while the attempt is recorded.
   */
  private requestEnded(c: ClaimedDelivery, record: AttemptRecord): void {
    this.learnCircuit(record);
    this.endpointSlotFreed(c);
  }

  /** Gives back the endpoint's slot of a launched delivery, once (at its response, or at its end without one). */
  private endpointSlotFreed(c: ClaimedDelivery): void {
    const s = this.requesting.get(c);
    if (!s) return;
    this.requesting.delete(c);
    this.slots.releaseEndpoint(s);
    this.claims.released(c.endpoint.id);
    this.slots.forgetIfIdle(c.endpoint.id, s);
  }

  /**
   * After attempts are durable: claim again at once what is due now (a resend that arrived
   * during the attempt), and wake endpoints for their retries.
   */
  private afterRecorded(records: AttemptRecord[], recorded: RecordedAttempts): void {
    for (const i of recorded.resent) this.backlogged(records[i]!.attempt.endpointId);
    // A settled delivery of an ordered endpoint lets the next of its key go.
    for (const r of records) if (this.ordered.isOrdered(r.attempt.endpointId)) this.backlogged(r.attempt.endpointId);
    let earliest = Infinity;
    for (const r of records) if (r.disableEndpoint) this.onEndpointDisabled(r.attempt.endpointId, r.attempt.appId);
    for (const r of records) if (r.next.status === DeliveryStatus.Pending) earliest = Math.min(earliest, r.next.at);
    if (earliest !== Infinity) this.sweep.schedule(Math.max(0, earliest - this.o.clock.now()));
  }

  /** The circuits of the attempt's endpoint and of the origin it was sent to learn how it went. */
  private learnCircuit(r: AttemptRecord): void {
    const a = r.attempt;
    this.breakers.learn(a.endpointId, originOf(a.url), circuitSignals(a), a.createdAt);
  }

  /** Tells subscribers of a circuit's change; a closed circuit's waiting deliveries are claimed at once. */
  private circuitChanged(t: CircuitTransition): void {
    publishCircuit({ scope: this.o.store, ...t });
    if (t.to === 'open') this.o.logger.warn({ [t.kind === 'endpoint' ? 'endpointId' : 'origin']: t.key, from: t.from }, 'circuit opened: deliveries wait until a probe succeeds');
    if (t.to !== 'closed' || !this.started) return;
    if (t.kind === 'endpoint') {
      if (this.slots.find(t.key)?.backlog) this.claims.request(t.key);
    } else {
      for (const id of this.slots.backlogged()) if (this.slots.find(id)?.origin === t.key) this.claims.request(id);
    }
  }

  private notifyIdle(): void {
    if (this.slots.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing is in flight and every attempt is recorded. */
  async idle(): Promise<void> {
    if (this.slots.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.writer.flush();
  }

  /**
   * Stops taking work; in-flight attempts may finish within `graceMs`, after which their
   * leases are given back so the next start (or another node) sends them again.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.sweep.stop();
    this.claims.stop();
    if (this.slots.inflight > 0) {
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => setTimeout(r, graceMs).unref())]);
    }
    if (this.slots.inflight > 0) {
      this.shutdownDeadlinePassed = true;
      const refs = [...this.inflightRefs.values()];
      await this.o.store.releaseLeases(refs, this.o.clock.now());
      this.o.logger.warn({ deliveries: refs.length }, 'released leases of deliveries still in flight at shutdown');
    }
    this.writer.stopRetries();
    await this.writer.flush();
  }
}

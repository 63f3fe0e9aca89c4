/**
 * Slot accounting of one node: deliveries in flight per endpoint, per application and in
 * total, each endpoint's rate-limit bucket, and whether the store holds due deliveries of an
 * endpoint that this node has not claimed yet. Nothing here does I/O.
 */
import type { Clock, TimerHandle } from '../domain/clock.js';
import type { Endpoint } from '../domain/model.js';
import { TokenBucket, throttleBurst } from '../domain/token-bucket.js';
import { originOf } from './circuit-breaker.js';

/** Endpoints whose application and origin are remembered after their record is dropped. */
const DIRECTORY_SIZE = 100_000;

/** Where an endpoint belongs and sends to, learned from the deliveries seen for it. */
interface EndpointPlace {
  appId: string;
  origin: string | null;
}

/** What this node holds and owes for one endpoint. */
export interface EndpointSlots {
  /** Requests of this endpoint being sent by this node (a slot is given back when its response is in). */
  inflight: number;
  bucket: TokenBucket | null;
  rate: number | null;
  /** The store may hold due deliveries for this endpoint that are not in memory. */
  backlog: boolean;
  /** A claim query for this endpoint is running. */
  claiming: boolean;
  /** Deliveries fell due while claiming: that claim's short answer does not end the backlog. */
  dueDuringClaim: boolean;
  /** A claim waiting for a rate token, an open circuit or caps counted across nodes. */
  timer: TimerHandle | null;
  /** When `timer` fires (epoch ms). */
  timerAt: number;
  /** The endpoint's application and origin; null until a delivery of it was seen. */
  appId: string | null;
  origin: string | null;
}

export class DeliverySlots {
  private readonly endpoints = new Map<string, EndpointSlots>();
  /** Deliveries in flight per application (only those with some). */
  private readonly apps = new Map<string, number>();
  private readonly directory = new Map<string, EndpointPlace>();
  private total = 0;

  constructor(
    private readonly clock: Clock,
    /** Deliveries of one endpoint a node sends at a time. */
    readonly endpointConcurrency: number,
    /** Deliveries a node sends at a time, all endpoints together. */
    readonly maxInflight: number,
    /** Deliveries of one application a node sends at a time, all its endpoints together. */
    readonly appMaxInflight: number = maxInflight,
  ) {}

  /** Deliveries in flight on this node. */
  get inflight(): number {
    return this.total;
  }

  /** The endpoint's record, created when it has none. */
  of(endpointId: string): EndpointSlots {
    let s = this.endpoints.get(endpointId);
    if (!s) {
      const place = this.directory.get(endpointId);
      s = { inflight: 0, bucket: null, rate: null, backlog: false, claiming: false, dueDuringClaim: false, timer: null, timerAt: 0, appId: place?.appId ?? null, origin: place?.origin ?? null };
      this.endpoints.set(endpointId, s);
    }
    return s;
  }

  /** The endpoint's record, with its application and origin as the endpoint says now. */
  learn(endpoint: Pick<Endpoint, 'id' | 'appId' | 'url'>): EndpointSlots {
    const s = this.of(endpoint.id);
    const same = s.origin !== null && endpoint.url.startsWith(s.origin) && '/?#'.includes(endpoint.url.charAt(s.origin.length) || '/');
    const origin = same ? s.origin : originOf(endpoint.url);
    if (s.appId === endpoint.appId && s.origin === origin) return s;
    s.appId = endpoint.appId;
    s.origin = origin;
    this.directory.delete(endpoint.id);
    if (this.directory.size >= DIRECTORY_SIZE) this.directory.delete(this.directory.keys().next().value!);
    this.directory.set(endpoint.id, { appId: endpoint.appId, origin });
    return s;
  }

  /** Deliveries of the application in flight on this node. */
  appInflight(appId: string): number {
    return this.apps.get(appId) ?? 0;
  }

  /** The application has as many deliveries in flight as it may. */
  appFull(appId: string): boolean {
    return this.appInflight(appId) >= this.appMaxInflight;
  }

  /** The endpoint's record if it has one (an idle endpoint has none). */
  find(endpointId: string): EndpointSlots | undefined {
    return this.endpoints.get(endpointId);
  }

  /** Follows a change of the endpoint's rate limit, keeping the tokens already earned. */
  applyRate(s: EndpointSlots, rate: number | null): void {
    if (rate === s.rate) return;
    s.rate = rate;
    if (rate === null || rate <= 0) s.bucket = null;
    else if (s.bucket) s.bucket.setRate(rate, throttleBurst(rate));
    else s.bucket = new TokenBucket(rate, throttleBurst(rate), this.clock.now());
  }

  /** Slots this endpoint may use now: its concurrency, rate tokens, its application's cap and the node-wide cap. */
  capacity(s: EndpointSlots): number {
    let n = Math.min(this.endpointConcurrency - s.inflight, this.maxInflight - this.total);
    if (s.appId !== null) n = Math.min(n, this.appMaxInflight - this.appInflight(s.appId));
    if (s.bucket) n = Math.min(n, s.bucket.available(this.clock.now()));
    return Math.max(0, n);
  }

  /** None of the endpoint's concurrency cap, its application's cap and the node's in-flight cap is reached. */
  belowCaps(s: EndpointSlots): boolean {
    return s.inflight < this.endpointConcurrency && this.total < this.maxInflight && (s.appId === null || !this.appFull(s.appId));
  }

  /** The endpoint is at its own concurrency cap. */
  endpointFull(s: EndpointSlots): boolean {
    return s.inflight >= this.endpointConcurrency;
  }

  /** Takes one slot of a known endpoint, and a rate token when the endpoint is rate limited. */
  take(s: EndpointSlots): void {
    s.bucket?.take(1, this.clock.now());
    this.reserve(s, 1);
  }

  /**
   * Holds `n` slots for a claim before it runs. Returns whether they count against the
   * application (false while the endpoint's application is not known yet).
   */
  reserve(s: EndpointSlots, n: number): boolean {
    s.inflight += n;
    this.total += n;
    if (s.appId === null) return false;
    this.apps.set(s.appId, this.appInflight(s.appId) + n);
    return true;
  }

  /** Gives back `n` slots held by `reserve` that nothing was sent under. */
  unreserve(s: EndpointSlots, n: number, appCounted: boolean): void {
    if (n <= 0) return;
    s.inflight -= n;
    this.total -= n;
    if (appCounted && s.appId !== null) this.appRelease(s.appId, n);
  }

  /** Counts `n` reserved slots against the application learned since they were reserved. */
  countInApp(s: EndpointSlots, n: number): void {
    if (s.appId !== null && n > 0) this.apps.set(s.appId, this.appInflight(s.appId) + n);
  }

  /** Gives one slot back (its rate token stays spent). */
  release(s: EndpointSlots): void {
    this.releaseEndpoint(s);
    this.releaseShared(s);
  }

  /**
   * Gives back the endpoint's part of a slot: its request has ended. The endpoint's cap counts
   * requests at the endpoint, so the next may go while the attempt is still being recorded.
   */
  releaseEndpoint(s: EndpointSlots): void {
    s.inflight--;
  }

  /**
   * Gives back the application's and the node's part of a slot: the attempt is recorded. They
   * bound what the node holds in memory (a response waiting for its record counts) and share
   * the node between applications.
   */
  releaseShared(s: EndpointSlots): void {
    this.total--;
    if (s.appId !== null) this.appRelease(s.appId, 1);
  }

  /** Gives back a slot and the rate token that `take` took, when nothing was sent under them. */
  untake(s: EndpointSlots): void {
    s.bucket?.giveBack(1, this.clock.now());
    this.release(s);
  }

  private appRelease(appId: string, n: number): void {
    const left = this.appInflight(appId) - n;
    if (left > 0) this.apps.set(appId, left);
    else this.apps.delete(appId);
  }

  /** Endpoints with due deliveries in the store. */
  *backlogged(): IterableIterator<string> {
    for (const [id, s] of this.endpoints) if (s.backlog) yield id;
  }

  /** Drops the record of an endpoint with nothing in flight, owed or remembered. */
  forgetIfIdle(endpointId: string, s: EndpointSlots): void {
    if (s.inflight === 0 && !s.backlog && !s.claiming && !s.timer && !s.bucket) this.endpoints.delete(endpointId);
  }

  /** Cancels every endpoint's waiting claim (shutdown). */
  cancelTimers(): void {
    for (const s of this.endpoints.values()) s.timer?.cancel();
  }
}

/**
 * Slot accounting of one node: deliveries in flight per endpoint and in total, each
 * endpoint's rate-limit bucket, and whether the store holds due deliveries of an endpoint
 * that this node has not claimed yet. Nothing here does I/O.
 */
import type { Clock, TimerHandle } from '../domain/clock.js';
import { TokenBucket, throttleBurst } from '../domain/token-bucket.js';

/** What this node holds and owes for one endpoint. */
export interface EndpointSlots {
  /** Deliveries of this endpoint being sent by this node. */
  inflight: number;
  bucket: TokenBucket | null;
  rate: number | null;
  /** The store may hold due deliveries for this endpoint that are not in memory. */
  backlog: boolean;
  /** A claim query for this endpoint is running. */
  claiming: boolean;
  /** Slots were freed while claiming: claim again when that query ends. */
  again: boolean;
  /** A claim waiting for a rate token or for caps counted across nodes. */
  timer: TimerHandle | null;
}

export class DeliverySlots {
  private readonly endpoints = new Map<string, EndpointSlots>();
  private total = 0;

  constructor(
    private readonly clock: Clock,
    /** Deliveries of one endpoint a node sends at a time. */
    readonly endpointConcurrency: number,
    /** Deliveries a node sends at a time, all endpoints together. */
    readonly maxInflight: number,
  ) {}

  /** Deliveries in flight on this node. */
  get inflight(): number {
    return this.total;
  }

  /** The endpoint's record, created when it has none. */
  of(endpointId: string): EndpointSlots {
    let s = this.endpoints.get(endpointId);
    if (!s) {
      s = { inflight: 0, bucket: null, rate: null, backlog: false, claiming: false, again: false, timer: null };
      this.endpoints.set(endpointId, s);
    }
    return s;
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

  /** Slots this endpoint may use now: concurrency, rate tokens and the node-wide cap. */
  capacity(s: EndpointSlots): number {
    const byConcurrency = this.endpointConcurrency - s.inflight;
    const global = this.maxInflight - this.total;
    let n = Math.min(byConcurrency, global);
    if (s.bucket) n = Math.min(n, s.bucket.available(this.clock.now()));
    return Math.max(0, n);
  }

  /** Neither the endpoint's concurrency cap nor the node's in-flight cap is reached. */
  belowCaps(s: EndpointSlots): boolean {
    return s.inflight < this.endpointConcurrency && this.total < this.maxInflight;
  }

  /** Takes one slot, and a rate token when the endpoint is rate limited. */
  take(s: EndpointSlots): void {
    s.bucket?.take(1, this.clock.now());
    s.inflight++;
    this.total++;
  }

  /** Gives one slot back (its rate token stays spent). */
  release(s: EndpointSlots): void {
    s.inflight--;
    this.total--;
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

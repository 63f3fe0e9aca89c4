/**
 * Claims due deliveries from the store, one endpoint at a time and only as many as the
 * endpoint has free slots, so a slow endpoint only ever waits on its own slots. Due work is
 * everything not leased at publish: retries, backlog behind a rate limit or concurrency
 * cap, leases left by a crash.
 */
import type { Clock } from '../domain/clock.js';
import type { Logger } from 'pino';
import type { CappedClaim } from '../storage/contract/cluster.js';
import type { ClaimedDelivery, Store } from '../storage/contract/store.js';
import type { DeliverySlots, EndpointSlots } from './delivery-slots.js';
import type { OrderedEndpoints } from './ordered-claims.js';

export interface DueClaimsOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  slots: DeliverySlots;
  /** How long a lease lasts; longer than a request can take. */
  leaseMs: number;
  /** Sends a claimed delivery; its slot is already taken. */
  launch: (c: ClaimedDelivery) => void;
  /** Ordered endpoints are claimed by their own claim (ordered-claims.ts). */
  ordered: OrderedEndpoints;
}

export class DueClaims {
  private readonly queued = new Set<string>();
  private stopped = false;

  constructor(private readonly o: DueClaimsOptions) {}

  /**
   * Claims due deliveries of one endpoint soon. Requests made in the same turn of the event
   * loop (many completions at once) are served by one claim for all freed slots.
   */
  request(endpointId: string): void {
    if (this.queued.size === 0) setImmediate(() => this.drain());
    this.queued.add(endpointId);
  }

  /** Stops claiming; claims waiting on a timer are dropped. */
  stop(): void {
    this.stopped = true;
    this.o.slots.cancelTimers();
  }

  private drain(): void {
    const ids = [...this.queued];
    this.queued.clear();
    for (const id of ids) this.claimNow(id);
  }

  /** Claims due deliveries of one endpoint while it has capacity and backlog. */
  private claimNow(endpointId: string): void {
    const { slots } = this.o;
    const s = slots.find(endpointId);
    if (!s || !s.backlog || this.stopped) return;
    if (s.claiming) {
      s.again = true;
      return;
    }
    const n = slots.capacity(s);
    if (n < 1) {
      // Only a rate token is missing: claim when the next one is earned.
      if (s.bucket && slots.belowCaps(s)) this.requestLater(endpointId, s, s.bucket.msUntilToken(this.o.clock.now()));
      return;
    }
    s.claiming = true;
    s.again = false;
    const now = this.o.clock.now();
    // Rate tokens are taken for what is actually claimed, below.
    let heldBack = false;
    this.claim(endpointId, n, now)
      .then(({ claims, retryInMs }) => {
        if (retryInMs !== null) {
          // Caps counted across nodes held work back: more is due, claim again later.
          heldBack = true;
          this.requestLater(endpointId, s, retryInMs);
        } else if (claims.length < n) s.backlog = false;
        if (claims.length > 0) slots.applyRate(s, claims[0]!.endpoint.throttleRate);
        if (claims.length > 0) this.o.ordered.note(claims[0]!.endpoint);
        for (const c of claims) {
          slots.take(s);
          this.o.launch(c);
        }
      })
      .catch((e: unknown) => {
        this.o.logger.error({ err: e, endpointId }, 'claiming deliveries failed');
        this.requestLater(endpointId, s, 1000);
      })
      .finally(() => {
        s.claiming = false;
        if (heldBack) {
          // The timer is armed; completions of this node's own attempts also request a claim.
        } else if (s.backlog && (s.again || slots.capacity(s) > 0)) this.request(endpointId);
        else if (s.backlog && s.bucket) this.request(endpointId);
        slots.forgetIfIdle(endpointId, s);
      });
  }

  /** Claims from the store; a store shared by several nodes also applies the endpoint's caps across them. */
  private claim(endpointId: string, n: number, now: number): Promise<CappedClaim> {
    const { store, leaseMs, slots, ordered } = this.o;
    const inOrder = ordered.claim(endpointId, n, now, now + leaseMs, store.cluster ? slots.endpointConcurrency : null);
    if (inOrder) return inOrder.then((r) => r ?? this.claimUnordered(endpointId, n, now));
    return this.claimUnordered(endpointId, n, now);
  }

  private claimUnordered(endpointId: string, n: number, now: number): Promise<CappedClaim> {
    const { store, leaseMs, slots } = this.o;
    const cluster = store.cluster;
    if (cluster) return cluster.claimDueCapped(endpointId, n, now, now + leaseMs, slots.endpointConcurrency);
    return store.claimDue(endpointId, n, now, now + leaseMs).then((claims) => ({ claims, retryInMs: null }));
  }

  private requestLater(endpointId: string, s: EndpointSlots, ms: number): void {
    if (s.timer) return;
    s.timer = this.o.clock.setTimer(ms, () => {
      s.timer = null;
      this.request(endpointId);
    });
  }
}

/**
 * Claims due deliveries from the store, one endpoint at a time and only as many as the
 * endpoint, its application and the node have free slots, so a slow endpoint only ever waits
 * on its own slots. Due work is everything not leased at publish: retries, backlog behind a
 * rate limit or a cap, deliveries held while a circuit was open, leases left by a crash.
 *
 * Endpoints waiting for slots are served in turn (`FairQueue`): applications with backlog
 * take turns, then endpoints within an application, and free node slots are shared between
 * the applications waiting. An endpoint whose circuit is open is not claimed at all: its due
 * deliveries stay in the store, untouched, until the circuit lets a probe through.
 */
import type { Clock } from '../domain/clock.js';
import type { Logger } from 'pino';
import type { CappedClaim } from '../storage/contract/cluster.js';
import type { ClaimedDelivery, LeaseRef, Store } from '../storage/contract/store.js';
import type { CircuitBreakers } from './circuit-breaker.js';
import type { DeliverySlots, EndpointSlots } from './delivery-slots.js';
import { FairQueue } from './fair-queue.js';
import type { OrderedEndpoints } from './ordered-claims.js';

export interface DueClaimsOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  slots: DeliverySlots;
  breakers: CircuitBreakers;
  /** How long a lease lasts; longer than a request can take. */
  leaseMs: number;
  /** Sends a claimed delivery; its slot is already taken. */
  launch: (c: ClaimedDelivery) => void;
  /** Ordered endpoints are claimed by their own claim (ordered-claims.ts). */
  ordered: OrderedEndpoints;
  /** A claim gave back slots it had reserved: the node may have nothing in flight now. */
  slotsFreed: () => void;
}

/** How long an endpoint waits before its claim is tried again after one failed. */
const CLAIM_FAILED_RETRY_MS = 1000;

export class DueClaims {
  private readonly queue = new FairQueue();
  private drainScheduled = false;
  private stopped = false;

  constructor(private readonly o: DueClaimsOptions) {}

  /**
   * Claims due deliveries of one endpoint soon, in its application's turn. Requests made in
   * the same turn of the event loop (many completions at once) are served by one pass.
   */
  request(endpointId: string): void {
    if (this.stopped) return;
    const s = this.o.slots.find(endpointId);
    if (!s || !s.backlog) return;
    this.queue.add(appKey(endpointId, s), endpointId);
    this.kick();
  }

  /**
   * The store holds due deliveries of this endpoint that no claim has seen yet (a retry fell
   * due, a resend was recorded, leases were given back). A claim running now may have read the
   * store before they were due: it must not conclude from its short answer that nothing is left.
   */
  backlogged(endpointId: string): void {
    const s = this.o.slots.of(endpointId);
    s.backlog = true;
    if (s.claiming) s.dueDuringClaim = true;
    this.request(endpointId);
  }

  /**
   * A delivery of this endpoint ended and gave its slot back: its application's turn passes
   * to the others waiting, then the endpoint asks again for its own backlog.
   */
  released(endpointId: string): void {
    const s = this.o.slots.find(endpointId);
    if (s) this.queue.served(appKey(endpointId, s));
    this.request(endpointId);
    this.kick();
  }

  /** Slots were freed: endpoints waiting for them may claim. */
  kick(): void {
    if (this.drainScheduled || this.queue.empty || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Stops claiming; claims waiting on a timer are dropped. */
  stop(): void {
    this.stopped = true;
    this.queue.clear();
    this.o.slots.cancelTimers();
  }

  /** Serves waiting applications in turn while the node has free slots, sharing them out. */
  private drain(): void {
    const { slots } = this.o;
    while (!this.stopped && !this.queue.empty) {
      const free = slots.maxInflight - slots.inflight;
      if (free < 1) return; // a completion kicks again
      const apps = this.queue.appKeys();
      const share = Math.max(1, Math.floor(free / apps.length));
      let served = false;
      for (const key of apps) {
        const left = slots.maxInflight - slots.inflight;
        if (left < 1) return;
        if (this.serveApp(key, Math.min(share, left)) > 0) served = true;
      }
      if (!served) return;
    }
  }

  /**
   * Starts a claim for the application's first endpoint that can claim now, of at most
   * `limit` deliveries; returns how many slots it holds for it (0: none could).
   */
  private serveApp(key: string, limit: number): number {
    const { slots, breakers } = this.o;
    for (const id of this.queue.endpointsOf(key)) {
      const s = slots.find(id);
      if (!s || !s.backlog) {
        this.queue.remove(key, id);
        if (s) slots.forgetIfIdle(id, s);
        continue;
      }
      if (s.claiming) {
        // The claim running asks again when it ends, if backlog is left.
        this.queue.remove(key, id);
        continue;
      }
      // The whole application waits for one of its slots; a completion kicks again.
      if (s.appId !== null && slots.appFull(s.appId)) return 0;
      const permit = breakers.permit(id, s.origin);
      if (permit.kind === 'wait') {
        this.queue.remove(key, id);
        this.requestLater(id, s, permit.ms);
        continue;
      }
      const n = slots.capacity(s);
      if (n < 1) {
        this.queue.remove(key, id);
        // At its own cap a completion asks again; only a rate token missing: claim when it is earned.
        if (!slots.endpointFull(s) && s.bucket && slots.belowCaps(s)) this.requestLater(id, s, s.bucket.msUntilToken(this.o.clock.now()));
        continue;
      }
      this.queue.remove(key, id);
      this.queue.served(key);
      const want = permit.kind === 'probe' ? 1 : Math.min(n, limit);
      this.claimNow(id, s, want);
      return want;
    }
    return 0;
  }

  /** Claims up to `n` due deliveries of one endpoint, its slots held meanwhile. */
  private claimNow(endpointId: string, s: EndpointSlots, n: number): void {
    const { slots } = this.o;
    s.claiming = true;
    s.dueDuringClaim = false;
    const appCounted = slots.reserve(s, n);
    const now = this.o.clock.now();
    let heldBack = false;
    this.claim(endpointId, n, now)
      .then(({ claims, retryInMs }) => {
        if (retryInMs !== null) {
          // Caps counted across nodes held work back: more is due, claim again later.
          heldBack = true;
          this.requestLater(endpointId, s, retryInMs);
        } else if (claims.length < n && !s.dueDuringClaim) s.backlog = false;
        const first = claims[0];
        if (first) {
          slots.applyRate(s, first.endpoint.throttleRate);
          slots.learn(first.endpoint);
          this.o.ordered.note(first.endpoint);
        }
        const { send, refused } = this.admitClaimed(endpointId, s, claims, appCounted);
        slots.unreserve(s, n - send.length, appCounted);
        if (!appCounted) slots.countInApp(s, send.length);
        s.bucket?.take(send.length, this.o.clock.now());
        if (refused.length > 0) this.giveBackLeases(endpointId, s, refused);
        for (const c of send) this.o.launch(c);
      })
      .catch((e: unknown) => {
        slots.unreserve(s, n, appCounted);
        this.o.logger.error({ err: e, endpointId }, 'claiming deliveries failed');
        // The timer asks again; asking at once would repeat a failure that lasts (an
        // unreadable endpoint secret, a database down) in a loop that holds the event loop.
        heldBack = true;
        this.requestLater(endpointId, s, CLAIM_FAILED_RETRY_MS);
      })
      .finally(() => {
        s.claiming = false;
        if (heldBack) {
          // The timer is armed; completions of this node's own attempts also request a claim.
        } else if (s.backlog) this.request(endpointId); // its turn decides whether it can claim, or what it waits for
        slots.forgetIfIdle(endpointId, s);
        // Slots reserved and not used are free for others.
        this.kick();
        this.o.slotsFreed();
      });
  }

  /**
   * Which claimed deliveries are sent. The circuits are asked again (they may have opened
   * during the claim, or the endpoint's origin was unknown before it), and the application's
   * cap is applied if the application was only learned from this claim.
   */
  private admitClaimed(endpointId: string, s: EndpointSlots, claims: ClaimedDelivery[], appCounted: boolean): { send: ClaimedDelivery[]; refused: LeaseRef[] } {
    const { slots, breakers } = this.o;
    const permit = breakers.permit(endpointId, s.origin);
    let allowed = claims.length;
    if (permit.kind === 'wait') allowed = 0;
    else if (permit.kind === 'probe') allowed = Math.min(1, allowed);
    if (!appCounted && s.appId !== null) allowed = Math.min(allowed, Math.max(0, slots.appMaxInflight - slots.appInflight(s.appId)));
    if (permit.kind === 'probe' && allowed > 0) breakers.probing(endpointId, s.origin);
    const refused = claims.slice(allowed).map((c) => ({ appId: c.app.id, deliveryId: c.deliveryId, leaseToken: c.leaseToken }));
    return { send: claims.slice(0, allowed), refused };
  }

  /**
   * Gives leases back unsent (no attempt is counted): they are due again at once, and claimed
   * when allowed. The endpoint counts as backlogged once they are back in the store (a claim
   * meanwhile, finding them still leased, would have said there was nothing left); its turn
   * then decides what it waits for.
   */
  private giveBackLeases(endpointId: string, s: EndpointSlots, refs: LeaseRef[]): void {
    s.backlog = true;
    this.o.store
      .releaseLeases(refs, this.o.clock.now())
      .catch((e: unknown) => this.o.logger.error({ err: e, endpointId }, 'giving back leases failed; they are claimed again when they expire'))
      .finally(() => this.backlogged(endpointId));
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

  /** Asks again in `ms`, unless a timer already asks sooner. */
  private requestLater(endpointId: string, s: EndpointSlots, ms: number): void {
    if (this.stopped) return;
    const at = this.o.clock.now() + Math.max(0, ms);
    if (s.timer && s.timerAt <= at) return;
    s.timer?.cancel();
    s.timerAt = at;
    s.timer = this.o.clock.setTimer(Math.max(0, ms), () => {
      s.timer = null;
      this.request(endpointId);
    });
  }
}

/** The turn an endpoint waits in: its application's, or its own until its application is known. */
function appKey(endpointId: string, s: EndpointSlots): string {
  return s.appId ?? `endpoint:${endpointId}`;
}

/**
 * Which endpoints ask for ordered delivery (docs/ordering.md), as last seen, and their claims.
 * Ordered endpoints' deliveries are never leased at publish: they are inserted pending and
 * claimed by the store's ordered claim, which per ordering key leases only the oldest
 * unfinished delivery while no other of the key is in flight. Unordered endpoints keep the
 * ordinary paths; an endpoint not seen yet is tried with the ordered claim once, which
 * answers null for an unordered one.
 */
import type { Endpoint } from '../domain/model.js';
import { isOrdered } from '../domain/ordering.js';
import type { CappedClaim } from '../storage/contract/cluster.js';
import type { Store } from '../storage/contract/store.js';

export class OrderedEndpoints {
  /** Endpoint id -> ordered, as last seen (publish, claims). */
  private readonly known = new Map<string, boolean>();

  constructor(private readonly store: Store) {}

  /** Remembers whether the endpoint, as just read, is ordered; returns it. */
  note(endpoint: Endpoint): boolean {
    const ordered = isOrdered(endpoint.metadata);
    if (this.known.get(endpoint.id) !== ordered) this.known.set(endpoint.id, ordered);
    return ordered;
  }

  /** The endpoint was last seen ordered. */
  isOrdered(endpointId: string): boolean {
    return this.known.get(endpointId) === true;
  }

  /**
   * Claims through the ordered claim, unless the endpoint is known to be unordered (then null
   * at once); resolves null if the store finds it unordered (then the ordinary claim applies).
   */
  claim(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number | null): Promise<CappedClaim | null> | null {
    if (this.known.get(endpointId) === false) return null;
    return this.store.ordering.claimDue(endpointId, limit, nowMs, leaseUntil, concurrency).then((r) => {
      this.known.set(endpointId, r !== null);
      return r;
    });
  }
}

/**
 * The turn order of endpoints waiting to claim due deliveries: applications take turns, and
 * within an application its endpoints take turns. An application or endpoint just served
 * goes to the back, so a burst or a dead endpoint in one application never stands in front
 * of another application's work. Nothing here does I/O.
 */
export class FairQueue {
  /** Application key -> its waiting endpoints; both in turn order (Map and Set keep insertion order). */
  private readonly apps = new Map<string, Set<string>>();

  get empty(): boolean {
    return this.apps.size === 0;
  }

  /** Number of applications with endpoints waiting. */
  get appCount(): number {
    return this.apps.size;
  }

  /** Queues an endpoint at the back of its application's turn, unless it is queued already. */
  add(appKey: string, endpointId: string): void {
    let eps = this.apps.get(appKey);
    if (!eps) {
      eps = new Set();
      this.apps.set(appKey, eps);
    }
    eps.add(endpointId);
  }

  /** Applications in turn order (a copy: serving them changes the order). */
  appKeys(): string[] {
    return [...this.apps.keys()];
  }

  /** The application's waiting endpoints in turn order; removing one while iterating is safe. */
  endpointsOf(appKey: string): IterableIterator<string> {
    return (this.apps.get(appKey) ?? new Set<string>()).values();
  }

  remove(appKey: string, endpointId: string): void {
    const eps = this.apps.get(appKey);
    if (!eps) return;
    eps.delete(endpointId);
    if (eps.size === 0) this.apps.delete(appKey);
  }

  /** The application was served: it goes to the back of the turn. */
  served(appKey: string): void {
    const eps = this.apps.get(appKey);
    if (!eps) return;
    this.apps.delete(appKey);
    this.apps.set(appKey, eps);
  }

  clear(): void {
    this.apps.clear();
  }
}

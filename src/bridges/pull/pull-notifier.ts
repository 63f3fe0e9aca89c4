/**
 * Wakes pull readers (long polls, SSE streams) when a message they want is published. One
 * listener on the event bus serves every reader, indexed by application, so an idle reader
 * costs one small object and nothing runs on a schedule.
 */
import type { Clock, TimerHandle } from '../../domain/clock.js';
import type { Message } from '../../domain/model.js';
import type { EventBus } from '../../engine/event-bus.js';

/**
 * One reader's interest. Subscribe before reading, `reset()` before each read and then
 * `next()`: a message published between the read and the wait is not missed.
 */
export class Subscription {
  private pending = false;
  private closed = false;
  private release: ((woken: boolean) => void) | null = null;

  constructor(
    readonly appId: string,
    readonly matches: (m: Message) => boolean,
    private readonly clock: Clock,
    private readonly remove: (s: Subscription) => void,
  ) {}

  /** Called by the notifier for a matching message. */
  wake(): void {
    this.pending = true;
    this.settle(true);
  }

  /** Forgets wake-ups so far; call right before reading. */
  reset(): void {
    this.pending = false;
  }

  /**
   * Waits for a wake-up since the last `reset()`, at most `ms` (Infinity: no limit), or
   * until `signal` aborts or the subscription closes. True if woken.
   */
  next(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.pending) return Promise.resolve(true);
    if (this.closed || signal?.aborted || ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: TimerHandle | null = null;
      const onAbort = (): void => this.settle(false);
      this.release = (woken) => {
        this.release = null;
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      if (Number.isFinite(ms)) timer = this.clock.setTimer(ms, () => this.settle(false));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops listening; a pending `next()` resolves false. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.remove(this);
    this.settle(false);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private settle(woken: boolean): void {
    this.release?.(woken);
  }
}

export class PullNotifier {
  private readonly byApp = new Map<string, Set<Subscription>>();
  private readonly unsubscribe: () => void;
  private count = 0;

  constructor(
    bus: EventBus,
    private readonly clock: Clock,
  ) {
    this.unsubscribe = bus.on((e) => {
      if (e.kind === 'message.published') this.notify(e.message);
    });
  }

  /** Registers interest in the application's messages that pass `matches`. */
  subscribe(appId: string, matches: (m: Message) => boolean): Subscription {
    const s = new Subscription(appId, matches, this.clock, (x) => this.drop(x));
    let set = this.byApp.get(appId);
    if (!set) {
      set = new Set();
      this.byApp.set(appId, set);
    }
    set.add(s);
    this.count++;
    return s;
  }

  /** Readers currently subscribed. */
  get size(): number {
    return this.count;
  }

  /** Closes every subscription (shutdown) and leaves the bus. */
  close(): void {
    for (const set of [...this.byApp.values()]) for (const s of [...set]) s.close();
    this.unsubscribe();
  }

  private notify(m: Message): void {
    const set = this.byApp.get(m.appId);
    if (!set) return;
    for (const s of set) if (s.matches(m)) s.wake();
  }

  private drop(s: Subscription): void {
    const set = this.byApp.get(s.appId);
    if (!set?.delete(s)) return;
    this.count--;
    if (set.size === 0) this.byApp.delete(s.appId);
  }
}

/**
 * Wakes pull readers (long polls, SSE streams) when a message they want is published. One
 * listener on the event bus serves every reader, indexed by application, so an idle reader
 * costs one small object and nothing runs on a schedule. Publishes arrive one batch per
 * commit: a reader is woken at most once per batch, and wake-ups it has not yet acted on
 * coalesce into one (it reads everything new in one go). Under a steady flow of commits,
 * readers are woken at most once per interval, so each reads (and each SSE stream writes)
 * what those commits brought in one go instead of once per commit; the first commit after a
 * quiet spell wakes them at once. The interval is `WAKE_INTERVAL_MS`, longer when so many
 * readers wake together that waking them that often would cost more than
 * `WAKE_BUDGET_PER_SECOND` wake-ups a second (up to `MAX_WAKE_INTERVAL_MS`): the readers'
 * work stays bounded however many there are, and the publishers keep the thread.
 */
import type { Clock, TimerHandle } from '../../domain/clock.js';
import type { Message } from '../../domain/model.js';
import type { EventBus } from '../../engine/event-bus.js';

/**
 * Least time between two wake-ups of the readers under a flow of commits: a few readers get
 * what several commits brought in one read and write, at this much latency at most. Many
 * readers are woken less often still (`WAKE_BUDGET_PER_SECOND`).
 */
export const WAKE_INTERVAL_MS = 5;

/**
 * Reader wake-ups a second the node spends at most under a flow of commits, before it wakes
 * them less often. A wake-up costs a stream one socket write and a long poll a whole answer
 * and the request that follows it (tens to a hundred and more µs of the thread that also
 * accepts publishes); 250 readers woken every 20 ms were 12,500 a second.
 */
export const WAKE_BUDGET_PER_SECOND = 2000;

/** Most time between two wake-ups under a flow of commits, however many readers wait: what pacing adds to a reader's latency at most. */
export const MAX_WAKE_INTERVAL_MS = 200;

/** The interval after a wake-up of `woken` readers: what they need of the budget, within the bounds. */
export function wakeInterval(woken: number): number {
  return Math.min(MAX_WAKE_INTERVAL_MS, Math.max(WAKE_INTERVAL_MS, Math.ceil((woken * 1000) / WAKE_BUDGET_PER_SECOND)));
}

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

  /** True if any of the messages passes this reader's filter (skipped when a wake-up is already pending). */
  wantsAny(messages: readonly Message[]): boolean {
    if (this.pending && this.release === null) return false;
    for (const m of messages) if (this.matches(m)) return true;
    return false;
  }

  /** Called by the notifier for a batch with a matching message. */
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
  /** Messages of this turn's batches, by application, waiting to wake their readers. */
  private due = new Map<string, Message[]>();
  private flushing = false;
  /** When readers were last woken (`pace` time). */
  private lastFlush = -Infinity;
  /** The wake-up waiting for the interval to pass, if any. */
  private timer: TimerHandle | null = null;
  /** Least time until the next wake-up after the last (`wakeInterval` of how many it woke). */
  private currentInterval = WAKE_INTERVAL_MS;
  private readonly unsubscribe: () => void;
  private count = 0;

  constructor(
    bus: EventBus,
    private readonly clock: Clock,
    /** Called for each application with new messages, before its readers are woken. */
    private readonly beforeWake: (appId: string) => void = () => undefined,
    /** What the interval between wake-ups is measured and waited on with: real monotonic time (a test that moves the node's clock by hand must not hold readers back). */
    private readonly pace: Clock,
  ) {
    this.unsubscribe = bus.on((e) => {
      if (e.kind === 'messages.published') this.notify(e.messages);
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

  /** Whether any reader is subscribed to the application's messages. */
  reads(appId: string): boolean {
    return this.byApp.has(appId);
  }

  /** Readers currently subscribed. */
  get size(): number {
    return this.count;
  }

  /** The current least time between two wake-ups, in ms. */
  get interval(): number {
    return this.currentInterval;
  }

  /** True while readers are woken less often than `WAKE_INTERVAL_MS` because there are many. */
  get pacing(): boolean {
    return this.currentInterval > WAKE_INTERVAL_MS;
  }

  /** Closes every subscription (shutdown) and leaves the bus. */
  close(): void {
    this.timer?.cancel();
    this.timer = null;
    for (const set of [...this.byApp.values()]) for (const s of [...set]) s.close();
    this.unsubscribe();
  }

  /**
   * One committed batch. The application's shared reads are outdated at once; its readers
   * are woken on the next turn of the event loop (or, right after a wake-up, once the
   * interval has passed since it), once for every batch that arrived meanwhile, so
   * the publishers of the batch get their answers before readers take their turn.
   */
  private notify(messages: readonly Message[]): void {
    let last = '';
    for (const m of messages) {
      // Every batch outdates its applications' answers, even one of many in this turn.
      if (m.appId !== last) {
        last = m.appId;
        this.beforeWake(m.appId);
      }
      if (!this.byApp.has(m.appId)) continue;
      let list = this.due.get(m.appId);
      if (!list) {
        list = [];
        this.due.set(m.appId, list);
      }
      list.push(m);
    }
    if (this.due.size > 0 && !this.flushing) {
      this.flushing = true;
      this.schedule();
    }
  }

  /** Wakes the readers on the next turn, or once the interval since the last wake-up has passed. */
  private schedule(): void {
    const wait = this.lastFlush + this.currentInterval - this.pace.now();
    if (wait <= 0) setImmediate(() => this.flush());
    else this.timer = this.pace.setTimer(wait, () => this.flush());
  }

  private flush(): void {
    this.timer = null;
    // A timer measures from the event loop's time, taken when its turn began: on a busy
    // machine it can fire well before the interval has passed. Wait out the rest.
    const now = this.pace.now();
    if (now < this.lastFlush + this.currentInterval) return this.schedule();
    this.flushing = false;
    this.lastFlush = now;
    const due = this.due;
    this.due = new Map();
    let woken = 0;
    for (const [appId, messages] of due) {
      const set = this.byApp.get(appId);
      if (set) {
        for (const s of set) {
          if (s.wantsAny(messages)) {
            s.wake();
            woken++;
          }
        }
      }
    }
    this.currentInterval = wakeInterval(woken);
  }

  private drop(s: Subscription): void {
    const set = this.byApp.get(s.appId);
    if (!set?.delete(s)) return;
    this.count--;
    if (set.size === 0) this.byApp.delete(s.appId);
  }
}

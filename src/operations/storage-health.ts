/**
 * Storage health: whether the database currently stores writes. A storage fault met anywhere
 * (a publish refused for a full disk, a read-only database) marks it degraded, with the
 * reason; the next write known to succeed — a published message, or the light probe written
 * while degraded — marks it healthy again. Each change is logged once, counted in metrics and
 * sent as a `storage.degraded` / `storage.recovered` operational webhook. A statement the
 * database cancelled (a statement timeout) is counted but marks nothing: it says nothing of
 * the next statement.
 *
 * Once the database has been unreachable for `refuseAfterMs`, requests that need it are
 * refused at once (`refusal`) rather than left to wait in the connection pool's queue for as
 * long as the outage lasts, and those already waiting there are failed (`Store.failWaiting`,
 * at each fault that says it is still unreachable); the probe then runs every second, so
 * requests are taken again within about a second of a write succeeding.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../domain/clock.js';
import type { EventBus } from '../engine/event-bus.js';
import type { Store } from '../storage/contract/store.js';
import { WAITED_UNREACHABLE, classifyStorageFault, onStorageFault } from '../storage/contract/storage-faults.js';
import type { StorageFault, StorageFaultKind } from '../storage/contract/storage-faults.js';

/** Why the database is degraded: the kinds of fault that say something of the database, not of one request. */
export type DegradedReason = Exclude<StorageFaultKind, 'timeout'>;

/** What the health route and operators see. */
export type StorageStatus = { degraded: false } | { degraded: true; reason: DegradedReason; code: string; detail: string; since: number };

const REASONS: readonly DegradedReason[] = ['full', 'read_only', 'io_error', 'unavailable', 'busy'];

/** The idempotency key the probe writes under; real keys are base64url hashes, never this. */
export const PROBE_KEY = 'switchboard:storage-probe';
/** The probe stores at most this many bytes. */
const MAX_PROBE_BYTES = 1024 * 1024;

export interface StorageHealthOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  bus: EventBus;
  /** Where the gauge and counter are registered (the instance's metrics registry). */
  registry: Registry;
  /** Sends an operational webhook. */
  emit?: ((type: 'storage.degraded' | 'storage.recovered', data: Record<string, unknown>) => Promise<void>) | undefined;
  /** How often the probe write runs while degraded. */
  probeIntervalMs: number;
  /**
   * Bytes the probe stores (the largest accepted payload; at most 1 MiB): a database that
   * cannot find room for one more largest message is still full for publishers.
   */
  probeBytes: number;
  /** Once the database has been unreachable this long, `refusal` refuses requests; 0 or absent: never. */
  refuseAfterMs?: number | undefined;
}

/** Why a request is refused without waiting for the database, and since when it has been unreachable. */
export interface StorageRefusal {
  /** The database's or the driver's code of the last fault (`ECONNREFUSED`, `57P03`...). */
  code: string;
  since: number;
  /** How long it has been unreachable, in ms. */
  unreachableMs: number;
}

/** While the database is unreachable, the probe runs at least this often. */
const UNREACHABLE_PROBE_MS = 1000;
/**
 * A probe write that has not ended after this long is given up (left to end or fail on its
 * own) so that the next probe can run: one write that never settles (a query a lost connection
 * forgot) would otherwise stop recovery, and shutdown, for good.
 */
export const PROBE_TIMEOUT_MS = 10_000;

export class StorageHealth {
  private current: StorageStatus = { degraded: false };
  private readonly unsubscribe: (() => void)[] = [];
  private timer: TimerHandle | null = null;
  /** The probe write in flight, if any. */
  private probing: Promise<void> | null = null;
  private readonly gauge: Gauge<'reason'>;
  private readonly faults: Counter<'reason'>;
  private readonly refused: Counter;
  private readonly waitingFailed: Counter;
  /** Since when the database has been unreachable (its first such fault in a row), and the code of the last; null while it answers. */
  private unreachable: { since: number; code: string } | null = null;

  constructor(private readonly o: StorageHealthOptions) {
    const registers = [o.registry];
    this.gauge = new Gauge({
      name: 'switchboard_storage_degraded',
      help: '1 while the database refuses writes, labelled with why (full, read_only, io_error, unavailable, busy); 0 otherwise.',
      labelNames: ['reason'],
      registers,
    });
    for (const r of REASONS) this.gauge.set({ reason: r }, 0);
    this.faults = new Counter({
      name: 'switchboard_storage_faults_total',
      help: 'Writes (requests, probes) the database refused for a storage fault, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.refused = new Counter({
      name: 'switchboard_storage_refused_total',
      help: 'Requests answered 503 at once, without waiting for the database, because it had been unreachable for SWITCHBOARD_STORAGE_WAIT_MS.',
      registers,
    });
    this.waitingFailed = new Counter({
      name: 'switchboard_storage_waiting_failed_total',
      help: 'Queries failed while they waited for a database connection (none was sent), the database having been unreachable for SWITCHBOARD_STORAGE_WAIT_MS.',
      registers,
    });
  }

  status(): StorageStatus {
    return this.current;
  }

  /**
   * Whether a request that needs the database is to be refused now: when it has been
   * unreachable for `refuseAfterMs` or longer, the code of the last fault and since when
   * (counted as one refused request); otherwise null.
   */
  refusal(): StorageRefusal | null {
    const r = this.refusing();
    if (r) this.refused.inc();
    return r;
  }

  /** `refusal` without counting a refused request. */
  private refusing(): StorageRefusal | null {
    const u = this.unreachable;
    const after = this.o.refuseAfterMs ?? 0;
    if (u === null || after <= 0) return null;
    const unreachableMs = this.o.clock.now() - u.since;
    if (unreachableMs < after) return null;
    return { code: u.code, since: u.since, unreachableMs };
  }

  /** Listens for faults of this instance and for committed messages. */
  start(): void {
    this.unsubscribe.push(
      onStorageFault([this.o.store, this.o.store.ingest, this.o.store.pull, this.o.store.auth, this.o.store.operationalWebhooks], (f) => this.fault(f)),
      this.o.bus.on((e) => {
        if (e.kind === 'messages.published' && !e.remote) this.succeeded();
      }),
    );
  }

  /**
   * Stops listening and probing; resolves once a probe write in flight has ended or been given
   * up (`PROBE_TIMEOUT_MS`): the store closes next.
   */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.timer?.cancel();
    this.timer = null;
    await this.probing;
  }

  /** A write failed for a storage fault. */
  fault(f: StorageFault): void {
    this.faults.inc({ reason: f.kind });
    // Any other fault came from a database that answered. A query failed by `failWaiting`
    // keeps the code of the fault that showed the database unreachable.
    const prior = this.unreachable;
    this.unreachable = f.kind === 'unavailable' ? { since: prior?.since ?? this.o.clock.now(), code: f.code === WAITED_UNREACHABLE && prior ? prior.code : f.code } : null;
    if (f.code !== WAITED_UNREACHABLE) this.failWaiting();
    // A statement the database cancelled (its timeout ran out) says nothing of the next one.
    if (f.kind === 'timeout') return;
    const reason = f.kind;
    const was = this.current;
    if (was.degraded && was.reason === reason) return;
    const since = was.degraded ? was.since : this.o.clock.now();
    this.current = { degraded: true, reason, code: f.code, detail: f.message, since };
    for (const r of REASONS) this.gauge.set({ reason: r }, r === reason ? 1 : 0);
    this.o.logger.error({ reason, code: f.code, detail: f.message }, 'storage degraded: the database refuses writes; they are answered 507/503 until it recovers');
    this.notify('storage.degraded', { reason, code: f.code, detail: f.message, since: new Date(since).toISOString() });
    this.scheduleProbe();
  }

  /**
   * While requests are refused, fails those already waiting for a connection too: the pool
   * fails them one per failed reconnection, so they would wait about as long as the outage.
   */
  private failWaiting(): void {
    const r = this.refusing();
    if (!r) return;
    const failed = this.o.store.failWaiting(`the database has been unreachable (${r.code}) for ${Math.round(r.unreachableMs / 1000)} s`);
    if (failed === 0) return;
    this.waitingFailed.inc(failed);
    this.o.logger.warn({ failed, code: r.code }, 'storage unreachable: queries waiting for a database connection were failed (503), none of them sent');
  }

  /** A write succeeded: the database stores writes again. */
  succeeded(): void {
    this.unreachable = null;
    const was = this.current;
    if (!was.degraded) return;
    this.current = { degraded: false };
    for (const r of REASONS) this.gauge.set({ reason: r }, 0);
    this.timer?.cancel();
    this.timer = null;
    const now = this.o.clock.now();
    this.o.logger.warn({ reason: was.reason, degradedSeconds: Math.round((now - was.since) / 1000) }, 'storage recovered: the database stores writes again');
    this.notify('storage.recovered', { reason: was.reason, since: new Date(was.since).toISOString(), recoveredAt: new Date(now).toISOString() });
  }

  /**
   * Writes a row as large as the largest payload and deletes it at once (an idempotency
   * entry that has already expired), which needs the room and the write access a publish needs.
   */
  probe(): Promise<void> {
    this.probing ??= this.probeOnce().finally(() => (this.probing = null));
    return this.probing;
  }

  private async probeOnce(): Promise<void> {
    let timer: TimerHandle | null = null;
    try {
      const now = this.o.clock.now();
      // Random bytes: the row takes its full size even where the database compresses.
      const body = randomBytes(Math.ceil((Math.min(this.o.probeBytes, MAX_PROBE_BYTES) * 3) / 4)).toString('base64');
      // Never waits out another process's lock: the probe runs every few seconds while the
      // database is busy, and each wait would stop the event loop for the busy timeout.
      const write = this.o.store.putIdempotent(PROBE_KEY, { status: 204, body, contentType: 'text/plain' }, now, now, { lockWait: false }).then(() => 'written' as const);
      const givenUp = new Promise<'given up'>((resolve) => (timer = this.o.clock.setTimer(PROBE_TIMEOUT_MS, () => resolve('given up'))));
      if ((await Promise.race([write, givenUp])) === 'given up') {
        this.o.logger.warn({ timeoutMs: PROBE_TIMEOUT_MS }, 'storage probe: the write has not ended; given up, the next probe runs');
        return;
      }
      this.succeeded();
    } catch (e: unknown) {
      const f = classifyStorageFault(e);
      if (f) this.fault(f);
      else this.o.logger.debug({ err: e }, 'storage probe failed');
    } finally {
      (timer as TimerHandle | null)?.cancel();
    }
  }

  private scheduleProbe(): void {
    if (this.timer || this.unsubscribe.length === 0) return;
    const interval = this.unreachable === null ? this.o.probeIntervalMs : Math.min(this.o.probeIntervalMs, UNREACHABLE_PROBE_MS);
    this.timer = this.o.clock.setTimer(interval, () => {
      this.timer = null;
      void this.probe().finally(() => {
        if (this.current.degraded) this.scheduleProbe();
      });
    });
  }

  private notify(type: 'storage.degraded' | 'storage.recovered', data: Record<string, unknown>): void {
    this.o.emit?.(type, data).catch((err: unknown) => this.o.logger.warn({ err, type }, 'operational webhook event failed'));
  }
}

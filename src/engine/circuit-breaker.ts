/**
 * Circuit breakers of one node, per endpoint and per destination origin (scheme, host and
 * port). After `threshold` consecutive failures a circuit opens: the node sends nothing
 * through it and due deliveries wait in the store, untouched. After a cool-down it lets one
 * delivery through (half-open): success closes it, failure opens it again with twice the
 * cool-down, up to `maxCooldownMs`. What counts as a failure is circuit-signal.ts's: for an
 * endpoint no response or a 5xx, for an origin no response or 502/503/504 (the host down).
 *
 * An origin's circuit opens only when its run of failures came from at least two endpoints:
 * one broken endpoint on a host many customers share (a SaaS receiver) opens its own circuit,
 * never the host's. Any answer from the host that shows it up ends its run.
 *
 * State lives in memory, per node; nothing here does I/O.
 */
import type { Clock } from '../domain/clock.js';
import type { CircuitSignals } from './circuit-signal.js';

export type CircuitPhase = 'closed' | 'open' | 'half-open';

/** What a circuit shows to the API, the dashboard and metrics. */
export interface CircuitState {
  state: CircuitPhase;
  consecutiveFailures: number;
  /** When it last opened (epoch ms), while not closed. */
  openedAt: number | null;
  /** When it lets a probe through (epoch ms), while open or half-open. */
  nextProbeAt: number | null;
}

export interface CircuitSettings {
  /** Consecutive failures that open a circuit; 0 turns breakers off. */
  threshold: number;
  /** First cool-down before a probe. */
  cooldownMs: number;
  /** Longest cool-down, however often a probe fails. */
  maxCooldownMs: number;
  /** A probe whose outcome never arrived (a lost record) is replaced after this long. */
  probeTimeoutMs: number;
}

/** A change of one circuit, for metrics and logs. */
export interface CircuitTransition {
  kind: 'endpoint' | 'origin';
  /** The endpoint id, or the origin. */
  key: string;
  from: CircuitPhase;
  to: CircuitPhase;
  at: number;
}

/** Whether a delivery may be sent now. */
export type Permit =
  | { kind: 'send' }
  /** Send it as the probe of the half-open circuit(s): call `probing` when it is sent. */
  | { kind: 'probe' }
  /** Do not send: try again in `ms`. */
  | { kind: 'wait'; ms: number };

interface Circuit {
  phase: CircuitPhase;
  failures: number;
  /** Origins only: the first endpoint of the run, and whether another failed in it too. */
  firstEndpoint: string | null;
  manyEndpoints: boolean;
  openedAt: number;
  nextProbeAt: number;
  cooldownMs: number;
  /** Half-open: when the probe went out, or 0 while none is out. */
  probeAt: number;
}

/** `scheme://host:port` of a URL, or null when it does not parse. */
export function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export class CircuitBreakers {
  private readonly endpoints = new Map<string, Circuit>();
  private readonly origins = new Map<string, Circuit>();

  constructor(
    private readonly clock: Clock,
    private readonly settings: CircuitSettings,
    /** Told of every transition. */
    private readonly onTransition: (t: CircuitTransition) => void = () => {},
  ) {}

  get enabled(): boolean {
    return this.settings.threshold > 0;
  }

  /** Whether a delivery to this endpoint (at this origin, when known) may be sent now. */
  permit(endpointId: string, origin: string | null): Permit {
    const now = this.clock.now();
    const e = this.check('endpoint', endpointId, this.endpoints.get(endpointId), now);
    const o = origin === null ? ({ kind: 'send' } as const) : this.check('origin', origin, this.origins.get(origin), now);
    if (e.kind === 'wait' || o.kind === 'wait') return { kind: 'wait', ms: Math.max(e.kind === 'wait' ? e.ms : 0, o.kind === 'wait' ? o.ms : 0) };
    return e.kind === 'probe' || o.kind === 'probe' ? { kind: 'probe' } : { kind: 'send' };
  }

  /** The delivery permitted as a probe is being sent: the half-open circuits wait for its outcome. */
  probing(endpointId: string, origin: string | null): void {
    const now = this.clock.now();
    for (const c of [this.endpoints.get(endpointId), origin === null ? undefined : this.origins.get(origin)]) {
      if (c?.phase === 'half-open') c.probeAt = now;
    }
  }

  /**
   * What an attempt made at `at` told its endpoint's circuit and its origin's
   * (circuit-signal.ts): a success closes a circuit, a failure counts towards opening it. A
   * cool-down counts from the failure, not from when the node learned of it.
   */
  learn(endpointId: string, origin: string | null, signals: CircuitSignals, at: number = this.clock.now()): void {
    const when = Math.min(at, this.clock.now());
    if (signals.endpoint === 'success') this.close('endpoint', endpointId, this.endpoints);
    else if (signals.endpoint === 'failure' && this.enabled) this.fail('endpoint', endpointId, this.endpoints, null, when);
    if (origin === null) return;
    if (signals.origin === 'success') this.close('origin', origin, this.origins);
    else if (signals.origin === 'failure' && this.enabled) this.fail('origin', origin, this.origins, endpointId, when);
  }

  /** The endpoint's circuit as it is now. */
  endpointState(endpointId: string): CircuitState {
    return this.stateOf('endpoint', endpointId, this.endpoints.get(endpointId));
  }

  /** The origin's circuit as it is now. */
  originState(origin: string): CircuitState {
    return this.stateOf('origin', origin, this.origins.get(origin));
  }

  /** How many circuits are open or half-open, by kind. */
  openCounts(): { endpoint: { open: number; halfOpen: number }; origin: { open: number; halfOpen: number } } {
    const count = (kind: 'endpoint' | 'origin', m: Map<string, Circuit>) => {
      let open = 0;
      let halfOpen = 0;
      for (const [key, c] of m) {
        const s = this.stateOf(kind, key, c).state;
        if (s === 'open') open++;
        else if (s === 'half-open') halfOpen++;
      }
      return { open, halfOpen };
    };
    return { endpoint: count('endpoint', this.endpoints), origin: count('origin', this.origins) };
  }

  private stateOf(kind: 'endpoint' | 'origin', key: string, c: Circuit | undefined): CircuitState {
    if (!c) return { state: 'closed', consecutiveFailures: 0, openedAt: null, nextProbeAt: null };
    this.ripen(kind, key, c, this.clock.now());
    const closed = c.phase === 'closed';
    return { state: c.phase, consecutiveFailures: c.failures, openedAt: closed ? null : c.openedAt, nextProbeAt: closed ? null : c.nextProbeAt };
  }

  /** An open circuit whose cool-down is over becomes half-open. */
  private ripen(kind: 'endpoint' | 'origin', key: string, c: Circuit, now: number): void {
    if (c.phase === 'open' && now >= c.nextProbeAt) {
      c.phase = 'half-open';
      c.probeAt = 0;
      this.onTransition({ kind, key, from: 'open', to: 'half-open', at: now });
    }
  }

  private check(kind: 'endpoint' | 'origin', key: string, c: Circuit | undefined, now: number): Permit {
    if (!c || c.phase === 'closed') return { kind: 'send' };
    this.ripen(kind, key, c, now);
    if (c.phase === 'open') return { kind: 'wait', ms: c.nextProbeAt - now };
    // Half-open: one probe at a time.
    if (c.probeAt === 0 || now - c.probeAt >= this.settings.probeTimeoutMs) return { kind: 'probe' };
    return { kind: 'wait', ms: c.probeAt + this.settings.probeTimeoutMs - now };
  }

  private close(kind: 'endpoint' | 'origin', key: string, m: Map<string, Circuit>): void {
    const c = m.get(key);
    if (!c) return;
    m.delete(key);
    if (c.phase !== 'closed') this.onTransition({ kind, key, from: c.phase, to: 'closed', at: this.clock.now() });
  }

  private fail(kind: 'endpoint' | 'origin', key: string, m: Map<string, Circuit>, endpointId: string | null, now: number): void {
    let c = m.get(key);
    if (!c) {
      c = { phase: 'closed', failures: 0, firstEndpoint: endpointId, manyEndpoints: false, openedAt: 0, nextProbeAt: 0, cooldownMs: 0, probeAt: 0 };
      m.set(key, c);
    }
    c.failures++;
    if (endpointId !== null && endpointId !== c.firstEndpoint) c.manyEndpoints = true;
    this.ripen(kind, key, c, now);
    const { threshold, cooldownMs, maxCooldownMs } = this.settings;
    if (c.phase === 'closed') {
      if (c.failures >= threshold && (kind === 'endpoint' || c.manyEndpoints)) this.open(kind, key, c, cooldownMs, 'closed', now);
    } else if (c.phase === 'half-open') {
      // The probe failed (or a request sent before the circuit opened): open again, for longer.
      this.open(kind, key, c, Math.min(maxCooldownMs, c.cooldownMs * 2), 'half-open', now);
    }
    // Open: requests sent before it opened are still ending; the cool-down stands.
  }

  private open(kind: 'endpoint' | 'origin', key: string, c: Circuit, cooldownMs: number, from: CircuitPhase, now: number): void {
    c.phase = 'open';
    c.openedAt = now;
    c.cooldownMs = Math.max(1, cooldownMs);
    c.nextProbeAt = now + c.cooldownMs;
    c.probeAt = 0;
    this.onTransition({ kind, key, from, to: 'open', at: now });
  }
}

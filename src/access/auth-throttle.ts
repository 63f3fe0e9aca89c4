/**
 * Throttling of failed authentications, per client address and per credential being
 * guessed, so tokens cannot be tried by the thousand. Each has its own exponential back-off
 * (`FailureBackoff`); an attempt is refused while either its address or its credential is
 * blocked, before its token is checked, so a valid token from a blocked address waits too.
 * A success forgets nothing: otherwise a caller holding one valid token could interleave it
 * with guesses and never be blocked. Failures are forgiven with time instead. Callers from
 * other addresses with other credentials are never slowed. See docs/security.md.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { FailureBackoff } from './failure-backoff.js';
import { throttleKeyOfAddress } from './client-address.js';
import type { BackoffPolicy } from './failure-backoff.js';

export type { BackoffPolicy } from './failure-backoff.js';

/** What a throttle is keyed by: the caller's address, or the credential its token names. */
export type ThrottleScope = 'address' | 'credential';

export type ThrottleVerdict = { kind: 'allowed' } | { kind: 'blocked'; scope: ThrottleScope; retryAfterMs: number };

/** Told when a key starts being blocked (once per block, not per refused request). */
export type ThrottleStartListener = (scope: ThrottleScope, blockMs: number, address: string) => void;

/**
 * Characters of a token that name the credential: long enough to reach past every fixed
 * prefix into the random part (`sb_poller_` is 10 characters, `sbk_` 4), so two real
 * credentials almost never share one, and short enough to be the same for every guess of
 * one credential's tail.
 */
export const CREDENTIAL_PREFIX_LENGTH = 16;

/** The numbers used unless configured otherwise (docs/security.md explains them). */
export const DEFAULT_AUTH_BACKOFF: BackoffPolicy = {
  freeFailures: 5,
  baseBlockMs: 1_000,
  maxBlockMs: 15 * 60_000,
  decayMs: 15 * 60_000,
  maxTracked: 50_000,
};

export class AuthThrottle {
  private readonly byAddress: FailureBackoff;
  private readonly byCredential: FailureBackoff;
  /** Keys credentials so the tables hold no part of any token, not even its prefix. */
  private readonly keyingSecret = randomBytes(32);

  constructor(
    policy: BackoffPolicy,
    private readonly clock: Clock,
    private readonly onThrottleStart: ThrottleStartListener = () => {},
  ) {
    this.byAddress = new FailureBackoff(policy);
    this.byCredential = new FailureBackoff(policy);
  }

  /** Whether an attempt from `address` with `token` may be checked now (IPv6 addresses count per /64). */
  check(address: string, token: string): ThrottleVerdict {
    return this.verdict(address, () => this.tokenKey(token));
  }

  /** Counts a failed attempt against its address and the credential its token names. */
  failed(address: string, token: string): void {
    this.fail(address, this.tokenKey(token));
  }

  /** Whether an OAuth client's secret may be checked now for a caller at `address`. */
  checkClient(address: string, clientId: string): ThrottleVerdict {
    return this.verdict(address, () => this.keyOf('client\n' + clientId));
  }

  /** Counts a wrong secret of an OAuth client against the caller's address and the client. */
  failedClient(address: string, clientId: string): void {
    this.fail(address, this.keyOf('client\n' + clientId));
  }

  /** `credentialOf` is called only while some credential has failures: a caller's key costs an HMAC. */
  private verdict(address: string, credentialOf: () => string | null): ThrottleVerdict {
    const now = this.clock.now();
    const addressMs = this.byAddress.blockedFor(throttleKeyOfAddress(address), now);
    const credential = this.byCredential.size > 0 ? credentialOf() : null;
    const credentialMs = credential === null ? 0 : this.byCredential.blockedFor(credential, now);
    if (addressMs === 0 && credentialMs === 0) return { kind: 'allowed' };
    return addressMs >= credentialMs ? { kind: 'blocked', scope: 'address', retryAfterMs: addressMs } : { kind: 'blocked', scope: 'credential', retryAfterMs: credentialMs };
  }

  private fail(address: string, credential: string | null): void {
    const now = this.clock.now();
    const a = this.byAddress.fail(throttleKeyOfAddress(address), now);
    if (a.blockStarted) this.onThrottleStart('address', a.blockMs, address);
    if (credential === null) return;
    const c = this.byCredential.fail(credential, now);
    if (c.blockStarted) this.onThrottleStart('credential', c.blockMs, address);
  }

  /**
   * The key of the credential a token names: a keyed hash of its first characters. A JWT
   * (three dot-separated parts) names none: every JWT starts with the same header, and its
   * signature cannot be guessed, so only its address is throttled.
   */
  private tokenKey(token: string): string | null {
    if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return null;
    return this.keyOf('token\n' + token.slice(0, CREDENTIAL_PREFIX_LENGTH));
  }

  private keyOf(credential: string): string {
    return createHmac('sha256', this.keyingSecret).update(credential).digest('base64url').slice(0, 22);
  }
}

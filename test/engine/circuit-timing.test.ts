/**
 * Circuit breakers can learn of a failure well after the attempt was made (a busy node handles
 * the response late). The cool-down counts from the failure itself, so a late answer neither
 * delays the next probe nor opens a circuit "in the future".
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers } from '../../src/engine/circuit-breaker.js';
import type { CircuitTransition } from '../../src/engine/circuit-breaker.js';
import { FakeClock } from '../helpers/fake-clock.js';

const COOLDOWN = 10_000;
/** An attempt that got no answer: a failure for the endpoint and its host. */
const NO_ANSWER = { endpoint: 'failure', origin: 'failure' } as const;
const settings = { threshold: 2, cooldownMs: COOLDOWN, maxCooldownMs: 8 * COOLDOWN, probeTimeoutMs: 60_000 };

describe('circuit breaker timing', () => {
  it('a failure learned late opens the circuit at the time it happened', () => {
    const clock = new FakeClock(1_000_000);
    const seen: CircuitTransition[] = [];
    const b = new CircuitBreakers(clock, settings, (t) => seen.push(t));
    const failedAt = clock.now();
    b.learn('ep', null, NO_ANSWER, failedAt);
    b.learn('ep', null, NO_ANSWER, failedAt);
    assert.equal(b.endpointState('ep').state, 'open');
    assert.equal(b.endpointState('ep').openedAt, failedAt);
    assert.equal(b.endpointState('ep').nextProbeAt, failedAt + COOLDOWN);
    assert.deepEqual(seen.map((t) => [t.to, t.at]), [['open', failedAt]]);
  });

  it('the next probe is due a cool-down after the failure, however late the record came', () => {
    const clock = new FakeClock(1_000_000);
    const b = new CircuitBreakers(clock, settings);
    const failedAt = clock.now();
    b.learn('ep', null, NO_ANSWER, failedAt);
    // The second failure's record becomes durable a day later; by then the cool-down is long over.
    clock.advance(86_400_000);
    b.learn('ep', null, NO_ANSWER, failedAt);
    assert.deepEqual(b.permit('ep', null), { kind: 'probe' });
  });

  it('a time after the clock is read as now', () => {
    const clock = new FakeClock(1_000_000);
    const b = new CircuitBreakers(clock, settings);
    b.learn('ep', null, NO_ANSWER, clock.now() + 5_000);
    b.learn('ep', null, NO_ANSWER, clock.now() + 5_000);
    assert.equal(b.endpointState('ep').openedAt, clock.now());
  });

  it('without a time, the failure is now', () => {
    const clock = new FakeClock(1_000_000);
    const b = new CircuitBreakers(clock, settings);
    b.learn('ep', null, NO_ANSWER);
    b.learn('ep', null, NO_ANSWER);
    const s = b.endpointState('ep');
    assert.equal(s.openedAt, clock.now());
    assert.deepEqual(b.permit('ep', null), { kind: 'wait', ms: COOLDOWN });
  });
});

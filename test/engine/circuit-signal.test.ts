/**
 * What an attempt tells the circuits: an endpoint fails on no response or a 5xx; its origin (the
 * host, shared by many tenants' endpoints) only on no response or 502/503/504. Two tenants'
 * endpoints answering 500 on a shared host open their own circuits and never the host's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers } from '../../src/engine/circuit-breaker.js';
import { circuitSignals } from '../../src/engine/circuit-signal.js';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Attempt } from '../../src/domain/model.js';
import { FakeClock } from '../helpers/fake-clock.js';

type Seen = Pick<Attempt, 'status' | 'responseStatusCode' | 'response'>;
const answered = (code: number): Seen => ({ status: code < 300 ? DeliveryStatus.Success : DeliveryStatus.Fail, responseStatusCode: code, response: '' });
const noAnswer = (reason: string): Seen => ({ status: DeliveryStatus.Fail, responseStatusCode: 0, response: reason });

describe('circuit signals', () => {
  it('tell the endpoint and its host apart', () => {
    assert.deepEqual(circuitSignals(answered(200)), { endpoint: 'success', origin: 'success' });
    assert.deepEqual(circuitSignals(answered(404)), { endpoint: 'success', origin: 'success' }, 'an answer: not the circuits’ business');
    assert.deepEqual(circuitSignals(answered(500)), { endpoint: 'failure', origin: 'success' }, "one endpoint's handler failed; the host is up");
    assert.deepEqual(circuitSignals(answered(501)), { endpoint: 'failure', origin: 'success' });
    for (const code of [502, 503, 504]) assert.deepEqual(circuitSignals(answered(code)), { endpoint: 'failure', origin: 'failure' }, `${code}: the host cannot serve`);
    assert.deepEqual(circuitSignals(noAnswer('connect ECONNREFUSED 127.0.0.1:9')), { endpoint: 'failure', origin: 'failure' });
    assert.deepEqual(circuitSignals(noAnswer('request timed out after 5000 ms')), { endpoint: 'failure', origin: 'failure' });
    assert.deepEqual(circuitSignals(noAnswer('transformation failed: boom')), { endpoint: 'none', origin: 'none' }, 'nothing was sent');
    assert.deepEqual(circuitSignals(noAnswer('message content was expunged')), { endpoint: 'none', origin: 'none' });
    assert.deepEqual(circuitSignals({ status: DeliveryStatus.Success, responseStatusCode: 0, response: 'canceled by the endpoint transformation: nothing was sent' }), { endpoint: 'none', origin: 'none' });
  });

  it("open two failing endpoints' circuits on a shared host and never the host's, unless the host itself fails", () => {
    const clock = new FakeClock(1_000_000);
    const b = new CircuitBreakers(clock, { threshold: 3, cooldownMs: 10_000, maxCooldownMs: 80_000, probeTimeoutMs: 60_000 });
    const host = 'https://hooks.example.com';
    // Two tenants' endpoints answer 500, one after the other, before any other answer comes back.
    for (let i = 0; i < 3; i++) {
      b.learn('ep_a', host, circuitSignals(answered(500)));
      b.learn('ep_b', host, circuitSignals(answered(500)));
    }
    assert.equal(b.endpointState('ep_a').state, 'open');
    assert.equal(b.endpointState('ep_b').state, 'open');
    assert.equal(b.originState(host).state, 'closed');
    assert.deepEqual(b.permit('ep_c', host), { kind: 'send' }, "a third tenant's endpoint on the host is not held");

    // The host itself down: 503 from two endpoints opens it.
    for (let i = 0; i < 2; i++) {
      b.learn('ep_c', host, circuitSignals(answered(503)));
      b.learn('ep_d', host, circuitSignals(answered(503)));
    }
    assert.equal(b.originState(host).state, 'open');
    assert.equal(b.permit('ep_e', host).kind, 'wait');
  });
});

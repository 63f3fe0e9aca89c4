import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { newId, isIdOf } from '../../src/domain/ids.js';
import { generateSecret, secretKey, signatureHeader, verifySignature } from '../../src/domain/signature.js';
import { nextRetry, parseRetryAfter, parseRetrySchedule, RETRY_AFTER_MAX_MS } from '../../src/domain/retry-policy.js';
import { addressAllowed, parseNetworks } from '../../src/domain/network.js';
import { endpointMatches } from '../../src/domain/matching.js';
import { TokenBucket } from '../../src/domain/token-bucket.js';

describe('ids', () => {
  it('have the prefix, fixed length, sort by time and do not repeat', () => {
    const a = newId('message', 1_000);
    const b = newId('message', 2_000);
    assert.match(a, /^msg_[0-9A-Za-z]{27}$/);
    assert.ok(a < b);
    assert.ok(isIdOf('message', a));
    assert.ok(!isIdOf('endpoint', a));
    const many = new Set(Array.from({ length: 1000 }, () => newId('endpoint', 5)));
    assert.equal(many.size, 1000);
  });
});

describe('signatures', () => {
  it('verify with the reference standardwebhooks verifier', () => {
    const secret = generateSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{32}$/);
    const body = JSON.stringify({ hello: 'wörld' });
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([secretKey(secret)], 'msg_1', ts, body);
    const wh = new Webhook(secret);
    const out = wh.verify(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': header });
    assert.deepEqual(out, { hello: 'wörld' });
  });

  it('carry one signature per key during rotation; each secret verifies', () => {
    const oldS = generateSecret();
    const newS = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([secretKey(newS), secretKey(oldS)], 'msg_2', ts, '{}');
    assert.equal(header.split(' ').length, 2);
    for (const s of [oldS, newS]) {
      new Webhook(s).verify('{}', { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': header });
      assert.ok(verifySignature(secretKey(s), 'msg_2', ts, '{}', header));
    }
    assert.ok(!verifySignature(secretKey(generateSecret()), 'msg_2', ts, '{}', header));
    assert.ok(!verifySignature(secretKey(oldS), 'msg_2', ts, '{"x":1}', header));
  });
});

describe('retry policy', () => {
  const schedule = [5, 300, 1800];
  it('follows the schedule, with jitter within ±20 %', () => {
    assert.deepEqual(nextRetry({ attempts: 1, nowMs: 0, random: 0.5 }, schedule), { kind: 'retry', at: 5000 });
    assert.deepEqual(nextRetry({ attempts: 2, nowMs: 0, random: 0 }, schedule), { kind: 'retry', at: 240_000 });
    assert.deepEqual(nextRetry({ attempts: 3, nowMs: 0, random: 0.999999 }, schedule), { kind: 'retry', at: Math.round(1800_000 * (1 + 0.2 * (2 * 0.999999 - 1))) });
    assert.deepEqual(nextRetry({ attempts: 4, nowMs: 0, random: 0.5 }, schedule), { kind: 'give-up' });
  });
  it('honours Retry-After, clamped', () => {
    assert.deepEqual(nextRetry({ attempts: 1, nowMs: 10, random: 0.5, retryAfterMs: 120_000 }, schedule), { kind: 'retry', at: 120_010 });
    assert.deepEqual(nextRetry({ attempts: 1, nowMs: 0, random: 0.5, retryAfterMs: 0 }, schedule), { kind: 'retry', at: 1000 });
    assert.deepEqual(nextRetry({ attempts: 1, nowMs: 0, random: 0.5, retryAfterMs: 1e12 }, schedule), { kind: 'retry', at: RETRY_AFTER_MAX_MS });
    assert.deepEqual(nextRetry({ attempts: 3, nowMs: 0, random: 0.5, retryAfterMs: 5 }, schedule), { kind: 'retry', at: 1000 });
    assert.deepEqual(nextRetry({ attempts: 4, nowMs: 0, random: 0.5, retryAfterMs: 5 }, schedule), { kind: 'give-up' });
  });
  it('parses Retry-After seconds and dates, ignores garbage', () => {
    assert.equal(parseRetryAfter('30', 0), 30_000);
    assert.equal(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    assert.equal(parseRetryAfter(undefined, 0), undefined);
  });
  it('parses schedules and rejects bad ones', () => {
    assert.deepEqual(parseRetrySchedule('5, 300,1800'), [5, 300, 1800]);
    assert.throws(() => parseRetrySchedule('5,-1'), /invalid retry delay/);
    assert.throws(() => parseRetrySchedule('5,x'), /invalid retry delay/);
  });
});

describe('network guard', () => {
  const none = parseNetworks('');
  it('refuses loopback, private, link-local, unique-local and mapped addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '100.64.0.1']) {
      assert.equal(addressAllowed(a, none), false, a);
    }
  });
  it('allows public addresses and chosen networks', () => {
    assert.equal(addressAllowed('93.184.216.34', none), true);
    assert.equal(addressAllowed('2606:2800:220:1::1', none), true);
    const dev = parseNetworks('127.0.0.0/8,::1/128');
    assert.equal(addressAllowed('127.0.0.1', dev), true);
    assert.equal(addressAllowed('::1', dev), true);
    assert.equal(addressAllowed('::ffff:127.0.0.1', dev), true);
    assert.equal(addressAllowed('10.0.0.1', dev), false);
  });
  it('rejects malformed network settings', () => {
    assert.throws(() => parseNetworks('banana/8'), /invalid network/);
    assert.throws(() => parseNetworks('10.0.0.0/33'), /invalid prefix/);
  });
});

describe('endpoint matching', () => {
  const ep = { disabled: false, eventTypes: null, channels: null };
  it('matches by event type and channel', () => {
    assert.ok(endpointMatches(ep, { eventType: 'a', channels: null }));
    assert.ok(!endpointMatches({ ...ep, disabled: true }, { eventType: 'a', channels: null }));
    assert.ok(endpointMatches({ ...ep, eventTypes: ['a', 'b'] }, { eventType: 'b', channels: null }));
    assert.ok(!endpointMatches({ ...ep, eventTypes: ['a'] }, { eventType: 'b', channels: null }));
    assert.ok(!endpointMatches({ ...ep, channels: ['x'] }, { eventType: 'a', channels: null }));
    assert.ok(endpointMatches({ ...ep, channels: ['x', 'y'] }, { eventType: 'a', channels: ['y'] }));
    assert.ok(!endpointMatches({ ...ep, channels: ['x'] }, { eventType: 'a', channels: ['z'] }));
  });
});

describe('token bucket', () => {
  it('refills at its rate and caps at burst', () => {
    const b = new TokenBucket(10, 10, 0);
    assert.equal(b.take(20, 0), 10);
    assert.equal(b.available(0), 0);
    assert.equal(b.msUntilToken(0), 100);
    assert.equal(b.available(500), 5);
    assert.equal(b.available(100_000), 10);
  });
});

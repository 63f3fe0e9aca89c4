/** The pure parts of sink delivery: when a batch goes, where the cursor moves, and what a stored failure reason may say. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchDecision, cursorAfter } from '../../src/bridges/streams/sink-batch.js';
import { credentialsOf, describeFailure, redact } from '../../src/bridges/streams/sink-failure.js';
import { SinkDeliveryError } from '../../src/bridges/streams/sink-transport.js';
import type { StreamEvent } from '../../src/storage/contract/streams.js';

const event = (seq: number, createdAt = 0): StreamEvent => ({ id: `evt_${seq}`, streamId: 'strm_1', eventType: 'a', payload: '{}', createdAt, seq });

describe('sink batches', () => {
  it('sends a full batch, or a partial one once its oldest event is maxWaitSecs old', () => {
    const two = [event(1, 1000), event(2, 5000)];
    assert.deepEqual(batchDecision(two, 2, 60, 1000), { kind: 'deliver' });
    assert.deepEqual(batchDecision(two, 3, 0, 1000), { kind: 'deliver' });
    assert.deepEqual(batchDecision(two, 3, 10, 10_999), { kind: 'wait', dueAt: 11_000 });
    assert.deepEqual(batchDecision(two, 3, 10, 11_000), { kind: 'deliver' });
  });

  it('moves the cursor to the last event read, or past filtered events the read proved skipped', () => {
    assert.equal(cursorAfter([event(3), event(5)], 2, 9, 0), 5, 'a full read: later events were not looked at');
    assert.equal(cursorAfter([event(3), event(5)], 10, 9, 0), 9, 'a short read: 6..9 were filtered out');
    assert.equal(cursorAfter([event(3), event(12)], 10, 9, 0), 12, 'events appended after the last seq was read');
    assert.equal(cursorAfter([], 10, 9, 4), 9);
    assert.equal(cursorAfter([], 10, 0, 4), 4, 'never backwards');
  });
});

describe('sink failure reasons', () => {
  it('keeps the status and whether a retry can help', () => {
    assert.deepEqual(describeFailure(new SinkDeliveryError('bad gateway', 502), []), { reason: 'bad gateway', status: 502, retryable: true });
    assert.deepEqual(describeFailure(new SinkDeliveryError('ACCESS_REFUSED', 403, false), []), { reason: 'ACCESS_REFUSED', status: 403, retryable: false });
    assert.deepEqual(describeFailure(new Error('connect ECONNREFUSED 127.0.0.1:5672'), []), { reason: 'connect ECONNREFUSED 127.0.0.1:5672', status: null, retryable: true });
    assert.equal(describeFailure('odd', []).reason, 'odd');
  });

  it('takes credentials out', () => {
    const creds = credentialsOf('whsec_abcdefgh', { Authorization: 'Bearer tok_123456' }, { url: 'amqps://me:pw@host/vh', password: 'hunter22', nested: { apiKey: 'k-98765' }, exchange: 'events' });
    assert.deepEqual(creds.sort(), ['Bearer tok_123456', 'hunter22', 'k-98765', 'whsec_abcdefgh'].sort());
    const reason = redact('amqps://me:pw@host/vh refused hunter22 (key k-98765, sig whsec_abcdefgh, Bearer tok_123456) on exchange events', creds);
    assert.equal(reason, 'amqps://***@host/vh refused *** (key ***, sig ***, ***) on exchange events');
    assert.equal(redact('x'.repeat(5000), []).length, 1000);
  });
});

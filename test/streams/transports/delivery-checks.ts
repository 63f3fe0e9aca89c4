/** Checks the broker suites share: a batch retried until it is in, and "every event arrived at least once". */
import assert from 'node:assert/strict';
import { SinkDeliveryError } from '../../../src/bridges/streams/sink-transport.js';
import type { SinkEvent, SinkTransport } from '../../../src/bridges/streams/sink-transport.js';

/**
 * Delivers `events` as the dispatcher would: on a SinkDeliveryError that is retryable, the
 * whole batch again (up to `attempts` times). Returns the errors seen before it went in.
 */
export async function deliverWithRetry(t: SinkTransport, events: SinkEvent[], attempts = 5): Promise<SinkDeliveryError[]> {
  const errors: SinkDeliveryError[] = [];
  for (;;) {
    try {
      await t.deliver(events);
      return errors;
    } catch (e) {
      assert.ok(e instanceof SinkDeliveryError, `a SinkDeliveryError, not ${String(e)}`);
      assert.equal(e.retryable, true, `retryable: ${e.message}`);
      errors.push(e);
      if (errors.length >= attempts) throw e;
    }
  }
}

/** Asserts the rejection is a SinkDeliveryError with that retryability; returns it. */
export async function deliveryError(work: Promise<unknown>, retryable: boolean): Promise<SinkDeliveryError> {
  try {
    await work;
  } catch (e) {
    assert.ok(e instanceof SinkDeliveryError, `a SinkDeliveryError, not ${String(e)}`);
    assert.equal(e.retryable, retryable, `retryable should be ${retryable}: ${e.message}`);
    return e;
  }
  assert.fail('the delivery should have failed');
}

/** True when every event id is among `seen` (duplicates allowed: at least once). */
export function allArrived(events: readonly SinkEvent[], seen: Iterable<string>): boolean {
  const got = new Set(seen);
  return events.every((e) => got.has(e.id));
}

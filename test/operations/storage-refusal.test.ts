/**
 * Storage health's refusal: once the database has been unreachable for `refuseAfterMs`,
 * requests are refused at once; a write that succeeds, or a fault that shows the database
 * answering, lets them through again; the probe runs every second meanwhile.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EventBus } from '../../src/engine/event-bus.js';
import { StorageHealth } from '../../src/operations/storage-health.js';
import { probeStore } from '../helpers/probe-store.js';
import { WAITED_UNREACHABLE } from '../../src/storage/contract/storage-faults.js';
import type { StorageFault } from '../../src/storage/contract/storage-faults.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { turns } from '../helpers/turns.js';

const refused: StorageFault = { kind: 'unavailable', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' };
const full: StorageFault = { kind: 'full', code: '53100', message: 'could not extend file' };

function health(refuseAfterMs: number | undefined, probeIntervalMs = 5000) {
  const clock = new FakeClock();
  const probes: number[] = [];
  let probeFails = true;
  /** Why each call of `failWaiting` failed the queries waiting for a connection. */
  const failedWaiting: string[] = [];
  const store = probeStore(
    async () => {
      probes.push(clock.now());
      if (probeFails) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'CONNECTION_CLOSED' });
    },
    (why) => (failedWaiting.push(why), 3),
  );
  const registry = new Registry();
  const h = new StorageHealth({ store, clock, logger: pino({ level: 'silent' }), bus: new EventBus(), registry, probeIntervalMs, probeBytes: 100, refuseAfterMs });
  h.start();
  return { h, clock, probes, registry, failedWaiting, answer: () => (probeFails = false) };
}

describe('storage health: refusing requests while the database is unreachable', () => {
  it('refuses only once the database has been unreachable for refuseAfterMs, and counts each refusal', async () => {
    const { h, clock, registry } = health(5000);
    assert.equal(h.refusal(), null, 'a healthy database');
    h.fault(refused);
    const since = clock.now();
    assert.equal(h.refusal(), null, 'just found unreachable: requests still wait for it');
    clock.advance(4999);
    h.fault(refused);
    assert.equal(h.refusal(), null, 'a later fault does not restart the count, nor end it early');
    clock.advance(1);
    assert.deepEqual(h.refusal(), { code: 'ECONNREFUSED', since, unreachableMs: 5000 });
    h.fault({ ...refused, code: 'CONNECTION_CLOSED' });
    assert.equal(h.refusal()?.code, 'CONNECTION_CLOSED', 'the code of the last fault');
    const metric = await registry.getSingleMetricAsString('switchboard_storage_refused_total');
    assert.match(metric, /switchboard_storage_refused_total 2$/m);
    h.succeeded();
    assert.equal(h.refusal(), null, 'a write went through');
    await h.stop();
  });

  it('stops refusing when the database answers with another fault, and never refuses with 0', async () => {
    const a = health(1000);
    a.h.fault(refused);
    a.clock.advance(2000);
    assert.ok(a.h.refusal());
    a.h.fault(full);
    assert.equal(a.h.refusal(), null, 'a full disk is answered by the database itself, without waiting');
    a.h.fault(refused);
    assert.equal(a.h.refusal(), null, 'unreachable again: the count starts over');
    await a.h.stop();

    for (const off of [0, undefined]) {
      const b = health(off);
      b.h.fault(refused);
      b.clock.advance(3_600_000);
      assert.equal(b.h.refusal(), null, `refuseAfterMs ${off}: requests always wait`);
      await b.h.stop();
    }
  });

  it('probes every second while unreachable, and lets requests through once a probe succeeds', async () => {
    const { h, clock, probes, answer } = health(2000, 5000);
    h.fault(refused);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await turns(5);
    }
    assert.equal(probes.length, 3, `one probe a second, not every 5 s: ${probes.length}`);
    assert.ok(h.refusal(), 'still unreachable after 3 s');
    answer();
    clock.advance(1000);
    await turns(5);
    assert.equal(h.refusal(), null);
    assert.equal(h.status().degraded, false, 'recovered');
    // A fault of a database that answers goes back to the usual interval.
    h.fault(full);
    const before = probes.length;
    clock.advance(4999);
    await turns(5);
    assert.equal(probes.length, before, 'no probe within 5 s of a full disk');
    await h.stop();
  });

  it('fails the queries waiting for a connection at each fault once requests are refused, keeping the code of the real fault', async () => {
    const { h, clock, registry, failedWaiting } = health(5000, 60_000);
    h.fault(refused);
    clock.advance(4999);
    h.fault(refused);
    assert.deepEqual(failedWaiting, [], 'not yet refusing: queries still wait for the database');
    clock.advance(1);
    h.fault(refused);
    assert.deepEqual(failedWaiting, ['the database has been unreachable (ECONNREFUSED) for 5 s']);
    // The queries failed that way are faults too: they neither fail the queue again nor hide the real code.
    h.fault({ kind: 'unavailable', code: WAITED_UNREACHABLE, message: 'waited' });
    assert.equal(failedWaiting.length, 1);
    assert.equal(h.refusal()?.code, 'ECONNREFUSED');
    const metric = await registry.getSingleMetricAsString('switchboard_storage_waiting_failed_total');
    assert.match(metric, /switchboard_storage_waiting_failed_total 3$/m, 'the queries failed are counted');
    h.fault(full);
    assert.equal(failedWaiting.length, 1, 'a database that answers: nothing is failed');
    await h.stop();
  });
});

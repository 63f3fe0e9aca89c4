/**
 * Stopping the storage health check waits for a probe write in flight: the server closes the
 * store right after. A probe write that never ends is given up after PROBE_TIMEOUT_MS, so that
 * neither recovery nor shutdown waits for it for good.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EventBus } from '../../src/engine/event-bus.js';
import { PROBE_TIMEOUT_MS, StorageHealth } from '../../src/operations/storage-health.js';
import { probeStore } from '../helpers/probe-store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { turns } from '../helpers/turns.js';

describe('storage health: stop', () => {
  it('resolves once the probe write in flight has ended; a second probe meanwhile shares it', async () => {
    let release!: () => void;
    let writes = 0;
    let written = false;
    const store = probeStore(async () => {
      writes++;
      await new Promise<void>((r) => (release = r));
      written = true;
    });
    const health = new StorageHealth({ store, clock: new FakeClock(), logger: pino({ level: 'silent' }), bus: new EventBus(), registry: new Registry(), probeIntervalMs: 1000, probeBytes: 100 });
    health.start();
    const first = health.probe();
    const second = health.probe();
    await turns();
    assert.equal(writes, 1, 'one probe write at a time');

    let stopped = false;
    const stopping = health.stop().then(() => (stopped = true));
    await turns(5);
    assert.equal(stopped, false, 'the probe is still writing');
    release();
    await stopping;
    assert.equal(written, true);
    await Promise.all([first, second]);
  });

  it('gives up a probe write that never ends: the next probe runs and recovers health, and stop does not wait for it', async () => {
    const clock = new FakeClock();
    let writes = 0;
    // The first write is a query the driver forgot: it never settles. The next ones succeed.
    const store = probeStore(() => (++writes === 1 ? new Promise<void>(() => {}) : Promise.resolve()));
    const health = new StorageHealth({ store, clock, logger: pino({ level: 'silent' }), bus: new EventBus(), registry: new Registry(), probeIntervalMs: 1000, probeBytes: 100 });
    health.start();
    health.fault({ kind: 'unavailable', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    clock.advance(1000);
    await turns();
    assert.equal(writes, 1, 'the first probe is writing');
    clock.advance(PROBE_TIMEOUT_MS - 1);
    await turns(3);
    assert.equal(writes, 1, 'it has not been given up yet, and no second probe runs beside it');
    assert.equal(health.status().degraded, true);
    clock.advance(1);
    await turns(3);
    clock.advance(1000);
    await turns(3);
    assert.equal(writes, 2, 'given up, the next probe ran');
    assert.equal(health.status().degraded, false, 'and its write recovered health');

    // A hung write at shutdown: stop resolves once it is given up.
    health.fault({ kind: 'unavailable', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    writes = 0;
    const hung = health.probe();
    await turns();
    let stopped = false;
    const stopping = health.stop().then(() => (stopped = true));
    await turns(3);
    assert.equal(stopped, false, 'stop waits for the probe write in flight');
    clock.advance(PROBE_TIMEOUT_MS);
    await stopping;
    await hung;
  });
});

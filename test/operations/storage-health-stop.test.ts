/** Stopping the storage health check waits for a probe write in flight: the server closes the store right after. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { EventBus } from '../../src/engine/event-bus.js';
import { StorageHealth } from '../../src/operations/storage-health.js';
import type { Store } from '../../src/storage/contract/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { turns } from '../helpers/turns.js';

describe('storage health: stop', () => {
  it('resolves once the probe write in flight has ended; a second probe meanwhile shares it', async () => {
    let release!: () => void;
    let writes = 0;
    let written = false;
    const store = {
      ingest: {},
      pull: {},
      auth: {},
      operationalWebhooks: {},
      async putIdempotent() {
        writes++;
        await new Promise<void>((r) => (release = r));
        written = true;
      },
    } as unknown as Store;
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
});

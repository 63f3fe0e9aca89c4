/**
 * Retention: the store's batch purge (a contract suite every store runs), the service that
 * runs it on a timer without holding up the event loop, and the whole thing on a real
 * server whose clock jumps past the retention period.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { DAY_MS, RetentionService } from '../../src/operations/retention.js';
import { eventually } from '../helpers/eventually.js';
import type { Metrics } from '../../src/operations/metrics.js';
import type { Store } from '../../src/storage/contract/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const T0 = 1_700_000_000_000;

describe('retention service', () => {
  it('yields to the event loop between batches and stops at a short batch', async () => {
    const order: string[] = [];
    let batches = 0;
    const store = {
      async purgeMessagesBefore(_cutoff: number, limit: number): Promise<number> {
        order.push('batch');
        batches++;
        if (batches === 1) setImmediate(() => order.push('other work'));
        return batches < 3 ? limit : 1;
      },
      maintainPartitions: async () => ({ created: [], dropped: [], droppedMessages: 0, kept: [], skipped: [] }),
      dropExpiredIdempotent: async () => 0,
    } as unknown as Store;
    const svc = new RetentionService({ store, clock: new FakeClock(T0), logger: pino({ level: 'silent' }), retentionDays: 30, batchSize: 10 });
    assert.equal(await svc.purge(), 21);
    assert.deepEqual(order, ['batch', 'other work', 'batch', 'batch']);
  });

  it('purges nothing when retention is 0, but keeps the partitions ahead, with no cutoff', async () => {
    const upkeep: [number, number | null][] = [];
    const store = {
      purgeMessagesBefore: () => Promise.reject(new Error('must not be called')),
      maintainPartitions: async (now: number, cutoff: number | null) => {
        upkeep.push([now, cutoff]);
        return { created: [], dropped: [], droppedMessages: 0, kept: [], skipped: [] };
      },
      dropExpiredIdempotent: async () => 0,
    } as unknown as Store;
    const svc = new RetentionService({ store, clock: new FakeClock(T0), logger: pino({ level: 'silent' }), retentionDays: 0 });
    assert.equal(await svc.purge(), 0);
    assert.deepEqual(upkeep, [[T0, null]]);
  });

  it('counts the messages that went with dropped partitions as purged', async () => {
    const counted: number[] = [];
    const store = {
      purgeMessagesBefore: async () => 2,
      maintainPartitions: async () => ({ created: [], dropped: ['messages_p20261101'], droppedMessages: 5, kept: [], skipped: [] }),
      dropExpiredIdempotent: async () => 0,
    } as unknown as Store;
    const metrics = { retentionPurged: (n: number) => counted.push(n) } as unknown as Metrics;
    const svc = new RetentionService({ store, clock: new FakeClock(T0), logger: pino({ level: 'silent' }), retentionDays: 30, batchSize: 10, metrics });
    assert.equal(await svc.purge(), 7, 'five with their day, two row by row');
    assert.equal(counted.reduce((a, b) => a + b, 0), 7);
  });

  it('keeps the partitions before purging, with the retention cutoff, and purges even when the upkeep fails', async () => {
    const order: string[] = [];
    const store = {
      purgeMessagesBefore: async (cutoff: number) => {
        order.push(`purge ${cutoff}`);
        return 0;
      },
      maintainPartitions: async (_now: number, cutoff: number | null) => {
        order.push(`upkeep ${cutoff}`);
        throw new Error('the database refused');
      },
      dropExpiredIdempotent: async (now: number) => {
        order.push(`expire ${now}`);
        return 0;
      },
    } as unknown as Store;
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line).msg as string) });
    const svc = new RetentionService({ store, clock: new FakeClock(T0), logger, retentionDays: 30 });
    assert.equal(await svc.purge(), 0);
    assert.deepEqual(order, [`upkeep ${T0 - 30 * DAY_MS}`, `expire ${T0}`, `purge ${T0 - 30 * DAY_MS}`]);
    assert.deepEqual(lines, ['partition upkeep failed']);
  });

  it('removes expired idempotent responses on every run, keeping everything or not, a batch at a time', async () => {
    const calls: [number, number][] = [];
    const store = {
      maintainPartitions: async () => ({ created: [], dropped: [], droppedMessages: 0, kept: [], skipped: [] }),
      dropExpiredIdempotent: async (now: number, limit: number) => {
        calls.push([now, limit]);
        return calls.length < 3 ? limit : 2;
      },
    } as unknown as Store;
    const svc = new RetentionService({ store, clock: new FakeClock(T0), logger: pino({ level: 'silent' }), retentionDays: 0, batchSize: 10 });
    assert.equal(await svc.purge(), 0, 'no message is purged');
    assert.deepEqual(calls, [
      [T0, 10],
      [T0, 10],
      [T0, 10],
    ]);
    // A failure is logged and the run goes on.
    const lines: string[] = [];
    const failing = { ...store, dropExpiredIdempotent: () => Promise.reject(new Error('refused')) } as unknown as Store;
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line).msg as string) });
    assert.equal(await new RetentionService({ store: failing, clock: new FakeClock(T0), logger, retentionDays: 0 }).purge(), 0);
    assert.deepEqual(lines, ['removing expired idempotent responses failed']);
  });
});

describe('retention on a running server', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rx: Receiver;

  before(async () => {
    clock = new FakeClock(T0);
    rx = await new Receiver().start();
    server = await startServer({ SWITCHBOARD_RETENTION_DAYS: '30' }, { clock, sweepIntervalMs: 100 * DAY_MS });
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('purges messages past the retention period on its timer; content expunge still works before that', async () => {
    const app = (await server.api('POST', '/api/v1/app', { name: 'retention' })).body;
    await server.api('POST', `/api/v1/app/${app.id}/endpoint`, { url: rx.url('/r') });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await server.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'r.t', payload: { i } })).body.id);
    await eventually(() => rx.at('/r').length === 3, 'three deliveries');
    await server.sb.dispatcher.idle();

    // Content expunge empties one payload now; the message itself stays until retention.
    assert.equal((await server.api('DELETE', `/api/v1/app/${app.id}/msg/${ids[0]}/content`)).status, 204);
    assert.deepEqual((await server.api('GET', `/api/v1/app/${app.id}/msg/${ids[0]}`)).body.payload, {});

    clock.advance(29 * DAY_MS);
    assert.equal(await server.sb.retention.purge(), 0);
    const late = (await server.api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'r.t', payload: { late: true } })).body.id;
    await eventually(() => rx.at('/r').length === 4, 'the late delivery');
    await server.sb.dispatcher.idle();

    // Past 30 days for the first three: the hourly timer purges them.
    clock.advance(2 * DAY_MS);
    await eventually(async () => {
      if ((await server.api('GET', `/api/v1/app/${app.id}/msg`)).body.data.length === 1) return true;
      clock.advance(3_600_000); // on to the next hourly run until one has purged
      return false;
    }, 'the purge');
    for (const id of ids) assert.equal((await server.api('GET', `/api/v1/app/${app.id}/msg/${id}`)).status, 404);
    assert.equal((await server.api('GET', `/api/v1/app/${app.id}/msg/${late}`)).status, 200);
    const metrics = await (await fetch(server.url + '/metrics')).text();
    assert.match(metrics, /^switchboard_retention_purged_messages_total 3$/m);
  });
});

/**
 * The storage contract: one suite every Store implementation must pass (SQLite in
 * store-contract.test.ts, PostgreSQL in postgres-store.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus, TriggerType } from '../../src/domain/model.js';
import type { AttemptRecord, ClaimedDelivery, Store } from '../../src/storage/contract/store.js';
import { T0, app, endpoint, message } from './fixtures.js';





function record(c: ClaimedDelivery, next: AttemptRecord['next'], at: number, ok = next.status === DeliveryStatus.Success): AttemptRecord {
  return {
    attempt: {
      id: newId('attempt', at),
      messageId: c.message.id,
      endpointId: c.endpoint.id,
      appId: c.app.id,
      url: c.endpoint.url,
      status: ok ? DeliveryStatus.Success : DeliveryStatus.Fail,
      responseStatusCode: ok ? 200 : 500,
      response: '',
      responseDurationMs: 1,
      triggerType: c.trigger,
      createdAt: at,
    },
    deliveryId: c.deliveryId,
    leaseToken: c.leaseToken,
    next,
    disableEndpoint: false,
  };
}

/** Runs the contract against stores made by `make`. */
export function storeContract(name: string, make: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await make());
      await store.migrate();
      await store.migrate(); // applying twice is a no-op
    });
    after(async () => dispose());

    it('keeps applications, finds them by id or uid, refuses a duplicate uid', async () => {
      const a = app({ uid: 'contract-app' });
      await store.createApplication(a);
      assert.equal((await store.getApplication(a.id))?.name, 'a');
      assert.equal((await store.getApplication('contract-app'))?.id, a.id);
      await assert.rejects(store.createApplication(app({ uid: 'contract-app' })), (e: unknown) => e instanceof AppError && e.status === 409);
      await store.updateApplication({ ...a, name: 'b', metadata: { k: 'v' } });
      assert.deepEqual((await store.getApplication(a.id))?.metadata, { k: 'v' });
      await store.deleteApplication(a.id);
      assert.equal(await store.getApplication(a.id), null);
    });

    it('pages with iterators in both orders', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const a = app({ id: newId('application', T0 + i), name: `p${i}` });
        ids.push(a.id);
        await store.createApplication(a);
      }
      const seen: string[] = [];
      let iterator: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const p = await store.listApplications({ limit: 3, iterator });
        seen.push(...p.data.map((a) => a.id).filter((id) => ids.includes(id)));
        if (p.done) break;
        iterator = p.iterator ?? undefined;
      }
      assert.deepEqual(seen, ids);
      const desc = await store.listApplications({ limit: 2, order: 'descending' });
      assert.ok(desc.data[0]!.id > desc.data[1]!.id);
      const back = await store.listApplications({ limit: 2, iterator: '-' + ids[4] });
      assert.deepEqual(back.data.map((a) => a.id), [ids[2], ids[3]]);
    });

    it('keeps an endpoint\'s content filter and transformation, and hands them to claims', async () => {
      const a = app();
      await store.createApplication(a);
      const filter = { 'payload.total': { $gt: 10 }, $or: [{ 'headers.x-kind': 'a' }, { eventType: 'e.t' }] };
      const transformation = { code: 'function handler(w) { return w }', enabled: true, variables: { k: 'v' }, updatedAt: T0 };
      const ep = endpoint(a.id, { filter, transformation });
      await store.createEndpoint(ep);
      assert.deepEqual((await store.getEndpoint(a.id, ep.id))?.filter, filter);
      assert.deepEqual((await store.allEndpoints(a.id))[0]?.transformation, transformation);
      await store.updateEndpoint({ ...ep, filter: null, transformation: { ...transformation, enabled: false }, updatedAt: T0 + 1 });
      const back = await store.getEndpoint(a.id, ep.id);
      assert.equal(back?.filter, null);
      assert.equal(back?.transformation?.enabled, false);
      await store.publish([{ message: message(a.id, T0), deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      const [c] = await store.claimDue(ep.id, 1, T0 + 1, T0 + 60_000);
      assert.deepEqual(c?.endpoint.transformation, { ...transformation, enabled: false });
      const plain = endpoint(a.id);
      await store.createEndpoint(plain);
      assert.equal((await store.getEndpoint(a.id, plain.id))?.transformation ?? null, null);
    });

    it('publishes messages with deliveries in one commit and refuses a duplicate eventId', async () => {
      const a = app();
      await store.createApplication(a);
      const e1 = endpoint(a.id);
      const e2 = endpoint(a.id);
      await store.createEndpoint(e1);
      await store.createEndpoint(e2);
      const m1 = message(a.id, T0, { eventId: 'evt-1' });
      const m2 = message(a.id, T0, { eventId: 'evt-1' });
      const [r1, r2] = await store.publish([
        { message: m1, deliveries: [{ endpointId: e1.id, leaseUntil: null }, { endpointId: e2.id, leaseUntil: T0 + 60_000 }] },
        { message: m2, deliveries: [{ endpointId: e1.id, leaseUntil: null }] },
      ]);
      assert.equal(r1!.kind, 'created');
      assert.deepEqual(r2, { kind: 'duplicate-event-id', existingId: m1.id });
      assert.equal((await store.getMessage(a.id, 'evt-1'))?.id, m1.id);
      assert.equal(await store.getMessage(a.id, m2.id), null);
      // The leased one belongs to its publisher until the lease ends; the other is due.
      assert.deepEqual(await store.dueEndpoints(T0, 100), [e1.id]);
      const s1 = await store.endpointStats(e2.id, null, null);
      assert.equal(s1.sending, 1);
      if (r1?.kind !== 'created') return;
      const leased = r1.deliveries.find((d) => d.endpointId === e2.id)!;
      const loaded = await store.loadClaimed([{ deliveryId: leased.deliveryId, leaseToken: leased.leaseToken }]);
      assert.equal(loaded.length, 1);
      assert.equal(loaded[0]!.message.payload, '{"a":1}');
    });

    it('claims due deliveries under a lease, fences stale leases, and retakes expired ones', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const msgs = [0, 1, 2].map((i) => message(a.id, T0 + i));
      await store.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const first = await store.claimDue(ep.id, 2, T0 + 10, T0 + 1000);
      assert.equal(first.length, 2);
      assert.deepEqual(first.map((c) => c.message.id), [msgs[0]!.id, msgs[1]!.id]);
      assert.equal(first[0]!.endpoint.id, ep.id);
      assert.equal(first[0]!.app.headerStyle, 'standard');
      const second = await store.claimDue(ep.id, 5, T0 + 10, T0 + 1000);
      assert.deepEqual(second.map((c) => c.message.id), [msgs[2]!.id], 'leased deliveries are not claimed twice');
      // The lease on the first ends; another claimer takes it with a new token.
      const retaken = await store.claimDue(ep.id, 5, T0 + 1001, T0 + 2000);
      assert.equal(retaken.length, 3);
      const stale = first[0]!;
      const fresh = retaken.find((c) => c.deliveryId === stale.deliveryId)!;
      assert.notEqual(fresh.leaseToken, stale.leaseToken);
      await store.recordAttempts([record(stale, { status: DeliveryStatus.Success }, T0 + 1500)]);
      let dest = await store.listMessageDestinations(a.id, stale.message.id, { limit: 10 });
      assert.equal(dest.data[0]!.status, DeliveryStatus.Sending, 'a stale lease does not change the state');
      const attempts = await store.listAttemptsByMessage(a.id, stale.message.id, { limit: 10 });
      assert.equal(attempts.data.length, 1, 'but its attempt is on record');
      await store.recordAttempts([record(fresh, { status: DeliveryStatus.Pending, at: T0 + 5000 }, T0 + 1600)]);
      dest = await store.listMessageDestinations(a.id, stale.message.id, { limit: 10 });
      assert.equal(dest.data[0]!.status, DeliveryStatus.Pending);
      assert.equal(dest.data[0]!.nextAttemptAt, T0 + 5000);
      assert.ok((await store.nextDueAt())! <= T0 + 2000, 'the earliest due time covers leases too');
      // Start-up of a single node: every lease is released and due at once.
      assert.ok((await store.releaseAllLeases(T0 + 1700)) >= 2);
      const again = await store.claimDue(ep.id, 10, T0 + 1700, T0 + 9000);
      assert.equal(again.length, 2);
      await store.releaseLeases(again.map((c) => ({ deliveryId: c.deliveryId, leaseToken: c.leaseToken })), T0 + 1800);
      assert.equal((await store.claimDue(ep.id, 10, T0 + 1800, T0 + 9000)).length, 2);
    });

    it('fails waiting deliveries of a disabled endpoint and recovers them later', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const m = message(a.id, T0);
      await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      await store.updateEndpoint({ ...ep, disabled: true, updatedAt: T0 + 1 });
      assert.equal((await store.endpointStats(ep.id, null, null)).fail, 1);
      assert.deepEqual(await store.dueEndpoints(T0 + 2, 100).then((l) => l.includes(ep.id)), false);
      await store.updateEndpoint({ ...ep, disabled: false, updatedAt: T0 + 2 });
      assert.equal(await store.recoverFailed(ep.id, T0 - 1, null, T0 + 3), 1);
      const c = await store.claimDue(ep.id, 10, T0 + 3, T0 + 100);
      assert.equal(c.length, 1);
      assert.equal(c[0]!.trigger, TriggerType.Manual);
    });

    it('resends, replays missing messages, and counts per endpoint', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      const late = endpoint(a.id);
      await store.createEndpoint(ep);
      await store.createEndpoint(late);
      const ms = [0, 1, 2].map((i) => message(a.id, T0 + i));
      await store.publish(ms.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const missing = await store.messagesWithoutDelivery(a.id, late.id, T0, T0 + 2);
      assert.deepEqual(missing.map((m) => m.id), [ms[0]!.id, ms[1]!.id]);
      assert.equal(await store.addDeliveries(late.id, a.id, missing.map((m) => m.id), T0 + 10), 2);
      assert.equal(await store.addDeliveries(late.id, a.id, missing.map((m) => m.id), T0 + 10), 0, 'replaying twice adds nothing');
      await store.resend(ms[2]!.id, late.id, a.id, T0 + 11);
      assert.equal((await store.endpointStats(late.id, null, null)).pending, 3);
      const page = await store.listEndpointMessages(a.id, late.id, { limit: 10 });
      assert.equal(page.data.length, 3);
    });

    it('filters messages by type, channel, tag and time', async () => {
      const a = app();
      await store.createApplication(a);
      await store.publish([
        { message: message(a.id, T0, { eventType: 'x', channels: ['c1'], tags: ['t1'] }), deliveries: [] },
        { message: message(a.id, T0 + 5, { eventType: 'y', channels: ['c2'] }), deliveries: [] },
      ]);
      assert.equal((await store.listMessages(a.id, { limit: 10, eventTypes: ['x'] })).data.length, 1);
      assert.equal((await store.listMessages(a.id, { limit: 10, channel: 'c2' })).data[0]!.eventType, 'y');
      assert.equal((await store.listMessages(a.id, { limit: 10, tag: 't1' })).data[0]!.eventType, 'x');
      assert.equal((await store.listMessages(a.id, { limit: 10, after: T0 })).data.length, 1);
      assert.equal((await store.listMessages(a.id, { limit: 10, before: T0 + 5 })).data.length, 1);
      const all = await store.listMessages(a.id, { limit: 10 });
      assert.equal(all.data[0]!.eventType, 'y', 'newest first');
    });

    it('keeps idempotent responses until they expire', async () => {
      await store.putIdempotent('k1', { status: 202, body: '{"id":1}', contentType: 'application/json' }, T0 + 100, T0);
      assert.deepEqual(await store.getIdempotent('k1', T0), { status: 202, body: '{"id":1}', contentType: 'application/json' });
      assert.equal(await store.getIdempotent('k1', T0 + 100), null);
    });
  });
}

/**
 * The delivery queue storage contract: claims under a lease, fencing, settling, releasing, disabling, recovery, resend (also
 * during an attempt) and replay.
 * Every Store implementation must pass it; test/storage/queue-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStatus, TriggerType } from '../../src/domain/model.js';
import { T0, app, attemptRecord, endpoint, message } from './fixtures.js';
import type { Store } from '../../src/storage/contract/store.js';
import { useMigratedStore } from './stores.js';
import type { TestStore } from './stores.js';

/** Runs the contract against stores made by `make`. */
export function queueContract(name: string, make: () => Promise<TestStore>): void {
  describe(`delivery queue contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

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
      await store.recordAttempts([attemptRecord(stale, { status: DeliveryStatus.Success }, T0 + 1500)]);
      let dest = await store.listMessageDestinations(a.id, stale.message.id, { limit: 10 });
      assert.equal(dest.data[0]!.status, DeliveryStatus.Sending, 'a stale lease does not change the state');
      const attempts = await store.listAttemptsByMessage(a.id, stale.message.id, { limit: 10 });
      assert.equal(attempts.data.length, 1, 'but its attempt is on record');
      await store.recordAttempts([attemptRecord(fresh, { status: DeliveryStatus.Pending, at: T0 + 5000 }, T0 + 1600)]);
      dest = await store.listMessageDestinations(a.id, stale.message.id, { limit: 10 });
      assert.equal(dest.data[0]!.status, DeliveryStatus.Pending);
      assert.equal(dest.data[0]!.nextAttemptAt, T0 + 5000);
      const leaseEnd = (await store.nextDueAt(T0 + 1600))!;
      assert.ok(leaseEnd > T0 + 1600 && leaseEnd <= T0 + 2000, 'the earliest due time covers leases too');
      // Start-up of a single node: every lease is released and due at once.
      assert.ok((await store.releaseAllLeases(T0 + 1700)) >= 2);
      const again = await store.claimDue(ep.id, 10, T0 + 1700, T0 + 9000);
      assert.equal(again.length, 2);
      await store.releaseLeases(again.map((c) => ({ appId: c.app.id, deliveryId: c.deliveryId, leaseToken: c.leaseToken })), T0 + 1800);
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

    /** The delivery of `m` to `ep` as its message's destinations list shows it. */
    const destination = async (appId: string, m: { id: string }) => (await store.listMessageDestinations(appId, m.id, { limit: 10 })).data[0]!;

    it('queues a resend that arrives during an attempt behind it, whatever the attempt ends in', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const ms = [0, 1, 2].map((i) => message(a.id, T0 + i));
      await store.publish(ms.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const inFlight = await store.claimDue(ep.id, 10, T0 + 10, T0 + 1000);
      assert.equal(inFlight.length, 3);
      for (const m of ms) await store.resend(m.id, ep.id, a.id, T0 + 20);
      for (const m of ms) assert.equal((await destination(a.id, m)).status, DeliveryStatus.Sending, 'the attempt in flight keeps its lease');
      assert.deepEqual(await store.claimDue(ep.id, 10, T0 + 30, T0 + 1000), [], 'no second attempt runs beside the one in flight');
      assert.equal((await store.dueEndpoints(T0 + 30, 100)).includes(ep.id), false);

      // Delivered, failed for good, and failed with a retry an hour away: each is due again at once.
      const recorded = await store.recordAttempts([
        attemptRecord(inFlight[0]!, { status: DeliveryStatus.Success }, T0 + 100),
        attemptRecord(inFlight[1]!, { status: DeliveryStatus.Fail }, T0 + 100),
        attemptRecord(inFlight[2]!, { status: DeliveryStatus.Pending, at: T0 + 3_600_000 }, T0 + 100),
      ]);
      assert.deepEqual(recorded.resent, [0, 1, 2]);
      for (const m of ms) {
        const d = await destination(a.id, m);
        assert.equal(d.status, DeliveryStatus.Pending);
        assert.equal(d.nextAttemptAt, T0 + 100, 'due when the attempt was recorded');
      }
      assert.equal((await store.dueEndpoints(T0 + 100, 100)).includes(ep.id), true);
      const resent = await store.claimDue(ep.id, 10, T0 + 100, T0 + 1100);
      assert.deepEqual(resent.map((c) => c.message.id), ms.map((m) => m.id));
      for (const c of resent) {
        assert.equal(c.trigger, TriggerType.Manual);
        assert.equal(c.attempts, 1);
      }
      // The request is served once: the resent attempt settles the delivery as usual.
      const again = await store.recordAttempts(resent.map((c) => attemptRecord(c, { status: DeliveryStatus.Success }, T0 + 200)));
      assert.deepEqual(again.resent, []);
      for (const m of ms) assert.equal((await destination(a.id, m)).status, DeliveryStatus.Success);
      assert.equal((await store.listAttemptsByMessage(a.id, ms[0]!.id, { limit: 10 })).data.length, 2);
    });

    it('keeps a resend requested during an attempt across a lease that expires or is given back, and only the current lease serves it', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const [m, other] = [message(a.id, T0), message(a.id, T0 + 1)];
      await store.publish([m, other].map((x) => ({ message: x, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const first = await store.claimDue(ep.id, 1, T0 + 10, T0 + 1000);
      const stale = first[0]!;
      assert.equal(stale.message.id, m.id);
      await store.resend(m.id, ep.id, a.id, T0 + 20);
      // The lease ends while the attempt still runs; another claimer retakes the delivery.
      const claimed = await store.claimDue(ep.id, 10, T0 + 1001, T0 + 2000);
      const retaken = claimed.find((c) => c.deliveryId === stale.deliveryId)!;
      assert.ok(retaken, 'the expired lease is retaken');
      assert.notEqual(retaken.leaseToken, stale.leaseToken);
      // The late attempt of the old lease is fenced: it neither settles the delivery nor consumes the request.
      const late = await store.recordAttempts([attemptRecord(stale, { status: DeliveryStatus.Success }, T0 + 1500)]);
      assert.deepEqual(late.resent, []);
      assert.equal((await destination(a.id, m)).status, DeliveryStatus.Sending);
      // The current lease's attempt serves it.
      const current = await store.recordAttempts([attemptRecord(retaken, { status: DeliveryStatus.Success }, T0 + 1600)]);
      assert.deepEqual(current.resent, [0]);
      const d = await destination(a.id, m);
      assert.equal(d.status, DeliveryStatus.Pending);
      assert.equal(d.nextAttemptAt, T0 + 1600);

      // A lease given back (shutdown) keeps the request too: it is served after the next attempt.
      const o = claimed.find((c) => c.message.id === other.id)!;
      await store.resend(other.id, ep.id, a.id, T0 + 1610);
      await store.releaseLeases([{ appId: o.app.id, deliveryId: o.deliveryId, leaseToken: o.leaseToken }], T0 + 1620);
      const next = (await store.claimDue(ep.id, 10, T0 + 1620, T0 + 3000)).find((c) => c.message.id === other.id)!;
      const served = await store.recordAttempts([attemptRecord(next, { status: DeliveryStatus.Success }, T0 + 1700)]);
      assert.deepEqual(served.resent, [0]);
    });

    it('makes a delivery waiting for a retry due now on resend; recover takes only what has failed', async () => {
      const a = app();
      await store.createApplication(a);
      const ep = endpoint(a.id);
      await store.createEndpoint(ep);
      const [m, n] = [message(a.id, T0), message(a.id, T0 + 1)];
      await store.publish([m, n].map((x) => ({ message: x, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
      const [cm, cn] = await store.claimDue(ep.id, 10, T0 + 10, T0 + 1000);
      // Recover while both are in flight: neither has failed yet, so it takes nothing.
      assert.equal(await store.recoverFailed(ep.id, T0 - 1, null, T0 + 20), 0);
      const recorded = await store.recordAttempts([
        attemptRecord(cm!, { status: DeliveryStatus.Pending, at: T0 + 3_600_000 }, T0 + 100),
        attemptRecord(cn!, { status: DeliveryStatus.Fail }, T0 + 100),
      ]);
      assert.deepEqual(recorded.resent, [], 'nothing was requested during these attempts');
      assert.equal((await store.dueEndpoints(T0 + 200, 100)).includes(ep.id), false);
      // The retry is an hour away; a resend makes it due now.
      await store.resend(m.id, ep.id, a.id, T0 + 200);
      assert.equal((await destination(a.id, m)).nextAttemptAt, T0 + 200);
      const claimed = await store.claimDue(ep.id, 10, T0 + 200, T0 + 1200);
      assert.deepEqual(claimed.map((c) => [c.message.id, c.trigger]), [[m.id, TriggerType.Manual]]);
      // The failure recorded after the first recover is taken by the next one.
      assert.equal(await store.recoverFailed(ep.id, T0 - 1, null, T0 + 300), 1);
      assert.equal((await destination(a.id, n)).status, DeliveryStatus.Pending);
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

    describe('due work, found endpoint by endpoint', () => {
      let own: Store;
      useMigratedStore(make, (s) => (own = s));

      it('lists the endpoints with due deliveries and the earliest due time, past endpoints with later, finished or no deliveries', async () => {
        assert.equal(await own.nextDueAt(T0), null, 'nothing open, nothing due');
        assert.deepEqual(await own.dueEndpoints(T0, 100), []);
        const a = app();
        await own.createApplication(a);
        const [due, alsoDue, retryLater, finished, leased] = [0, 1, 2, 3, 4].map(() => endpoint(a.id));
        for (const ep of [due!, alsoDue!, retryLater!, finished!, leased!, endpoint(a.id)]) await own.createEndpoint(ep);
        const publish = (ep: string, at: number, leaseUntil: number | null = null) => own.publish([{ message: message(a.id, at), deliveries: [{ endpointId: ep, leaseUntil }] }]);
        for (const at of [T0 + 3, T0 + 1, T0 + 2]) await publish(due!.id, at);
        await publish(alsoDue!.id, T0 + 2);
        await publish(retryLater!.id, T0);
        await publish(finished!.id, T0);
        await publish(leased!.id, T0, T0 + 3000);
        const [retry] = await own.claimDue(retryLater!.id, 10, T0 + 5, T0 + 1000);
        const [done] = await own.claimDue(finished!.id, 10, T0 + 5, T0 + 1000);
        await own.recordAttempts([attemptRecord(retry!, { status: DeliveryStatus.Pending, at: T0 + 5000 }, T0 + 6), attemptRecord(done!, { status: DeliveryStatus.Success }, T0 + 6)]);

        const both = [due!.id, alsoDue!.id].sort();
        assert.deepEqual(await own.dueEndpoints(T0 + 10, 100), both, 'in ascending id order');
        assert.deepEqual(await own.dueEndpoints(T0 + 10, 1), [both[0]], 'no more than the limit');
        assert.deepEqual(await own.dueEndpoints(T0 + 10, 1, both[0]), [both[1]], 'the next page starts after the last id');
        assert.deepEqual(await own.dueEndpoints(T0 + 10, 1, both[1]), []);
        assert.equal(await own.nextDueAt(T0), T0 + 1, 'the earliest due time of any endpoint');
        // Deliveries due already and still waiting (behind a cap, a circuit, their key's head)
        // must not hide what falls due later, or a sweep would not know when to look again.
        assert.equal(await own.nextDueAt(T0 + 10), T0 + 3000, 'after the due ones: the end of the lease');
        assert.equal(await own.nextDueAt(T0 + 3000), T0 + 5000, 'then the retry');
        assert.deepEqual((await own.dueEndpoints(T0 + 3000, 100)).sort(), [due!.id, alsoDue!.id, leased!.id].sort(), 'an expired lease is due');
        assert.deepEqual((await own.dueEndpoints(T0 + 5000, 100)).sort(), [due!.id, alsoDue!.id, retryLater!.id, leased!.id].sort());

        // Once the due ones are delivered, the retry is what comes next.
        for (const ep of [due!, alsoDue!, leased!]) {
          const claims = await own.claimDue(ep.id, 10, T0 + 3001, T0 + 9000);
          await own.recordAttempts(claims.map((c) => attemptRecord(c, { status: DeliveryStatus.Success }, T0 + 3002)));
        }
        assert.equal(await own.nextDueAt(T0 + 3002), T0 + 5000);
        assert.equal(await own.nextDueAt(T0 + 5000), null, 'nothing after the last');

        // Endpoints of several applications: pages of one, each after the last, find each once.
        const apps = [app(), app(), app()];
        const eps: string[] = [];
        for (const [i, x] of apps.entries()) {
          await own.createApplication(x);
          for (let j = 0; j < 3 - i; j++) {
            const ep = endpoint(x.id);
            await own.createEndpoint(ep);
            await own.publish([{ message: message(x.id, T0 + 6000), deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
            eps.push(ep.id);
          }
        }
        const paged: string[] = [];
        for (let page = await own.dueEndpoints(T0 + 6000, 1); page.length > 0; page = await own.dueEndpoints(T0 + 6000, 1, paged.at(-1))) paged.push(...page);
        const all = await own.dueEndpoints(T0 + 6000, 100);
        assert.deepEqual(paged, all, 'each once, in the order of one page of all');
        assert.equal(new Set(all).size, all.length);
        for (const id of eps) assert.ok(all.includes(id), id);
        assert.deepEqual(await own.dueEndpoints(T0 + 4999, 100), []);
      });
    });
  });
}

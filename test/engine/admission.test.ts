/**
 * The engine's admission contract as the publish path uses it: slots are taken at admission
 * within the endpoint's concurrency cap, its rate limit and the node-wide cap, committed
 * leased deliveries are sent without a claim query, refused leases and pending deliveries
 * are claimed from the store, and a rolled-back publish gives its slots back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Dispatcher } from '../../src/engine/dispatcher.js';
import type { Admission } from '../../src/engine/admission.js';
import type { SendRequest, SendResult, Sender } from '../../src/engine/http-sender.js';
import type { AttemptRecord, ClaimedDelivery, Store } from '../../src/storage/contract/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { T0, app, endpoint, message } from '../helpers/fixtures.js';
import { turns } from '../helpers/turns.js';

/** The few store calls the dispatcher makes here, recorded; nothing is ever due. */
function fakeStore() {
  const calls = { claimDue: [] as string[], recorded: [] as AttemptRecord[] };
  const store = {
    cluster: undefined,
    releaseAllLeases: async () => 0,
    releaseLeases: async () => {},
    dueEndpoints: async () => [],
    nextDueAt: async () => null,
    claimDue: async (endpointId: string): Promise<ClaimedDelivery[]> => {
      calls.claimDue.push(endpointId);
      return [];
    },
    recordAttempts: async (records: AttemptRecord[]) => {
      calls.recorded.push(...records);
      return { resent: [] };
    },
  };
  return { store: store as unknown as Store, calls };
}

/** A sender answering 200 once `release` is called, so the test controls what is in flight. */
function heldSender() {
  const sent: SendRequest[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const sender: Sender = {
    send: async (req: SendRequest): Promise<SendResult> => {
      sent.push(req);
      await released;
      return { kind: 'response', status: 200, body: '', durationMs: 1, retryAfter: undefined, deliveryDirective: undefined };
    },
    close: async () => {},
  };
  return { sender, sent, release: () => release() };
}

function dispatcher(store: Store, sender: Sender, o: { endpointConcurrency?: number; maxInflight?: number } = {}): Dispatcher {
  return new Dispatcher({
    store,
    sender,
    clock: new FakeClock(T0),
    logger: pino({ level: 'silent' }),
    retrySchedule: [5],
    endpointConcurrency: o.endpointConcurrency ?? 2,
    maxInflight: o.maxInflight ?? 100,
    leaseMs: 30_000,
    disableAfterMs: 86_400_000,
  });
}

const kinds = (admissions: Admission[]): string[] => admissions.map((a) => a.kind);

describe('admission of deliveries being published', () => {
  const a = app();
  const ep = endpoint(a.id);

  it('admits nothing leased before the dispatcher is started (a node that does not send)', () => {
    const { store } = fakeStore();
    const d = dispatcher(store, heldSender().sender);
    assert.deepEqual(kinds([d.admit(ep, T0)]), ['backlog']);
    assert.equal(d.inflightCount, 0);
  });

  it('leases up to the endpoint concurrency cap, with the lease counted from the publish time', async () => {
    const { store } = fakeStore();
    const d = dispatcher(store, heldSender().sender, { endpointConcurrency: 2 });
    await d.start({ releaseOrphanedLeases: false });
    const admissions = [d.admit(ep, T0), d.admit(ep, T0), d.admit(ep, T0)];
    assert.deepEqual(kinds(admissions), ['leased', 'leased', 'backlog']);
    assert.deepEqual(admissions[0], { kind: 'leased', endpoint: ep, leaseUntil: T0 + 30_000 });
    assert.equal(d.inflightCount, 2);
    d.settle({ kind: 'rolled-back', admissions });
    await d.stop(0);
  });

  it('holds to the node-wide in-flight cap across endpoints', async () => {
    const { store } = fakeStore();
    const d = dispatcher(store, heldSender().sender, { endpointConcurrency: 5, maxInflight: 1 });
    await d.start({ releaseOrphanedLeases: false });
    const admissions = [d.admit(ep, T0), d.admit(endpoint(a.id), T0)];
    assert.deepEqual(kinds(admissions), ['leased', 'backlog']);
    d.settle({ kind: 'rolled-back', admissions });
    await d.stop(0);
  });

  it('leaves a delivery behind its backlog to its own claim while it has room, and to any node at its cap', async () => {
    const { store } = fakeStore();
    const d = dispatcher(store, heldSender().sender, { endpointConcurrency: 2 });
    await d.start({ releaseOrphanedLeases: false });
    d.backlogged(ep.id);
    const behind = d.admit(ep, T0);
    assert.deepEqual(behind, { kind: 'backlog', endpoint: ep, claimedHere: true }, 'older due deliveries go first, claimed here');
    d.settle({ kind: 'rolled-back', admissions: [behind] });
    await turns(5);

    const other = endpoint(a.id);
    const leased = [d.admit(other, T0), d.admit(other, T0)];
    assert.deepEqual(kinds(leased), ['leased', 'leased']);
    d.backlogged(other.id);
    assert.deepEqual(d.admit(other, T0), { kind: 'backlog', endpoint: other }, 'no room here: other nodes are told');
    d.settle({ kind: 'rolled-back', admissions: leased });
    await d.stop(0);
  });

  it('takes a rate token per leased delivery', async () => {
    const { store } = fakeStore();
    const d = dispatcher(store, heldSender().sender, { endpointConcurrency: 10 });
    await d.start({ releaseOrphanedLeases: false });
    const limited = endpoint(a.id, { throttleRate: 1 });
    const admissions = [d.admit(limited, T0), d.admit(limited, T0)];
    assert.deepEqual(kinds(admissions), ['leased', 'backlog']);
    d.settle({ kind: 'rolled-back', admissions });
    await d.stop(0);
  });

  it('gives the rate token back with the slot when the store refuses the lease', async () => {
    // A store shared by nodes leases no rate-limited endpoint at publish: the token the
    // admission took must stay for the claim, or the delivery waits for the next token.
    const { store, calls } = fakeStore();
    const d = dispatcher(store, heldSender().sender, { endpointConcurrency: 10 });
    await d.start({ releaseOrphanedLeases: false });
    const limited = endpoint(a.id, { throttleRate: 1 });
    const first = d.admit(limited, T0);
    assert.deepEqual(kinds([first]), ['leased']);
    d.settle({ kind: 'committed', message: message(a.id, T0), app: { id: a.id, headerStyle: a.headerStyle }, admissions: [first], inserted: [{ deliveryId: 1, leaseToken: 0 }] });
    await turns();
    assert.deepEqual(calls.claimDue, [limited.id], 'claimed at once, with the token given back');
    await d.stop(0);
  });

  it('gives the slots back when the publish is rolled back', async () => {
    const { store } = fakeStore();
    const d = dispatcher(store, heldSender().sender, { endpointConcurrency: 1 });
    await d.start({ releaseOrphanedLeases: false });
    const first = d.admit(ep, T0);
    d.settle({ kind: 'rolled-back', admissions: [first] });
    assert.equal(d.inflightCount, 0);
    const again = d.admit(ep, T0);
    assert.deepEqual(kinds([again]), ['leased']);
    d.settle({ kind: 'rolled-back', admissions: [again] });
    await d.stop(0);
  });

  it('sends committed leased deliveries without a claim, and claims the backlog and refused leases', async () => {
    const { store, calls } = fakeStore();
    const held = heldSender();
    const d = dispatcher(store, held.sender, { endpointConcurrency: 1 });
    await d.start({ releaseOrphanedLeases: false });
    const other = endpoint(a.id);
    const admissions = [d.admit(ep, T0), d.admit(ep, T0), d.admit(other, T0)];
    assert.deepEqual(kinds(admissions), ['leased', 'backlog', 'leased']);
    const m = message(a.id, T0);
    d.settle({
      kind: 'committed',
      message: m,
      app: { id: a.id, headerStyle: a.headerStyle },
      admissions,
      // The store refused the lease of the third (caps counted across nodes).
      inserted: [
        { deliveryId: 1, leaseToken: 1 },
        { deliveryId: 2, leaseToken: 0 },
        { deliveryId: 3, leaseToken: 0 },
      ],
    });
    assert.equal(d.inflightCount, 1);
    await turns();
    assert.equal(held.sent.length, 1);
    assert.equal(held.sent[0]!.headers['webhook-id'], m.id);
    // The refused lease gave its slot back: its endpoint is claimed at once; the first
    // endpoint is full, so its backlog waits for the delivery in flight.
    assert.deepEqual(calls.claimDue, [other.id]);
    held.release();
    await d.idle();
    assert.deepEqual(
      calls.recorded.map((r) => [r.deliveryId, r.leaseToken, r.next.status]),
      [[1, 1, 0]],
    );
    await turns();
    assert.deepEqual(calls.claimDue, [other.id, ep.id]);
    await d.stop(0);
  });

  it('is idle once a claim that held slots finds nothing, though no attempt ran', async () => {
    const { store, calls } = fakeStore();
    let answer: (rows: ClaimedDelivery[]) => void = () => {};
    // The endpoint is not known to be ordered or not: the ordered claim is asked first.
    Object.assign(store, { ordering: { claimDue: async () => null } });
    (store as { claimDue: unknown }).claimDue = (endpointId: string) => {
      calls.claimDue.push(endpointId);
      return new Promise<ClaimedDelivery[]>((r) => (answer = r));
    };
    const d = dispatcher(store, heldSender().sender);
    await d.start({ releaseOrphanedLeases: false });
    d.backlogged(ep.id);
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id]);
    // The claim holds the endpoint's slots while the store answers.
    assert.ok(d.inflightCount > 0);
    let idle = false;
    const waiting = d.idle().then(() => (idle = true));
    answer([]);
    await Promise.race([waiting, new Promise((r) => setTimeout(r, 1000))]);
    assert.equal(d.inflightCount, 0);
    assert.equal(idle, true, 'idle() resolved once the claim gave its slots back');
    await d.stop(0);
  });

  it('waits a second before claiming again after a claim failed, instead of retrying at once', async () => {
    const { store, calls } = fakeStore();
    Object.assign(store, { ordering: { claimDue: async () => null } });
    (store as { claimDue: unknown }).claimDue = async (endpointId: string) => {
      calls.claimDue.push(endpointId);
      throw new Error('a secret is sealed with a key that is not configured');
    };
    const clock = new FakeClock(T0);
    const d = new Dispatcher({ store, sender: heldSender().sender, clock, logger: pino({ level: 'silent' }), retrySchedule: [5], endpointConcurrency: 2, maxInflight: 100, leaseMs: 30_000, disableAfterMs: 86_400_000 });
    await d.start({ releaseOrphanedLeases: false });
    d.backlogged(ep.id);
    for (let i = 0; i < 10; i++) await turns();
    assert.equal(calls.claimDue.length, 1, 'a failed claim is not retried in a loop');
    assert.equal(d.inflightCount, 0, 'its slots are given back');
    clock.advance(999);
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id]);
    clock.advance(1);
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id, ep.id], 'claimed again a second later');
    await d.stop(0);
  });

  it('claims again when deliveries fell due while a claim that read the store before was running', async () => {
    const { store, calls } = fakeStore();
    const answers: ((rows: ClaimedDelivery[]) => void)[] = [];
    Object.assign(store, { ordering: { claimDue: async () => null } });
    (store as { claimDue: unknown }).claimDue = (endpointId: string) => {
      calls.claimDue.push(endpointId);
      return new Promise<ClaimedDelivery[]>((r) => answers.push(r));
    };
    const d = dispatcher(store, heldSender().sender);
    await d.start({ releaseOrphanedLeases: false });
    d.backlogged(ep.id);
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id]);
    // A resend is recorded (or a retry falls due) while the store answers the claim, which
    // read the endpoint's deliveries before: its answer is short, yet work is left.
    d.backlogged(ep.id);
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id], 'one claim per endpoint at a time');
    answers[0]!([]);
    await turns();
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id, ep.id], 'the endpoint is claimed again once the first claim ends');
    answers[1]!([]);
    await turns();
    await turns();
    assert.deepEqual(calls.claimDue, [ep.id, ep.id], 'a short answer to a claim nothing raced ends the backlog');
    await d.stop(0);
  });

  it("frees the endpoint's slot when its request ends, and the node's once the attempt is recorded", async () => {
    const { store, calls } = fakeStore();
    let written: () => void = () => {};
    const writes = new Promise<void>((r) => (written = r));
    (store as { recordAttempts: unknown }).recordAttempts = async (records: AttemptRecord[]) => {
      await writes;
      calls.recorded.push(...records);
      return { resent: [] };
    };
    const held = heldSender();
    const d = dispatcher(store, held.sender, { endpointConcurrency: 1, maxInflight: 2 });
    await d.start({ releaseOrphanedLeases: false });
    const launch = (deliveryId: number): void => {
      const admissions = [d.admit(ep, T0)];
      assert.deepEqual(kinds(admissions), ['leased']);
      d.settle({ kind: 'committed', message: message(a.id, T0), app: { id: a.id, headerStyle: a.headerStyle }, admissions, inserted: [{ deliveryId, leaseToken: 1 }] });
    };
    launch(1);
    assert.deepEqual(kinds([d.admit(ep, T0)]), ['backlog'], 'one request at a time to the endpoint');
    held.release();
    await turns(3);
    assert.equal(calls.recorded.length, 0, 'the record is not written yet');
    // The endpoint has no request in flight: the next delivery goes while the first is recorded.
    launch(2);
    await turns(3);
    assert.equal(held.sent.length, 2);
    assert.equal(d.inflightCount, 2, 'both still hold the node: their records are not written');
    assert.deepEqual(kinds([d.admit(endpoint(a.id), T0)]), ['backlog'], "another endpoint waits for the node's slots");
    written();
    await d.idle();
    assert.equal(d.inflightCount, 0);
    assert.deepEqual(calls.recorded.map((r) => r.deliveryId).sort(), [1, 2]);
    await d.stop(0);
  });

  it('opens a circuit from the responses, before their attempts are recorded', async () => {
    const { store } = fakeStore();
    let written: () => void = () => {};
    const writes = new Promise<void>((r) => (written = r));
    (store as { recordAttempts: unknown }).recordAttempts = async () => {
      await writes;
      return { resent: [] };
    };
    const sent: SendRequest[] = [];
    const failing: Sender = {
      send: async (req) => {
        sent.push(req);
        return { kind: 'response', status: 500, body: 'down', durationMs: 1, retryAfter: undefined, deliveryDirective: undefined };
      },
      close: async () => {},
    };
    const d = dispatcher(store, failing, { endpointConcurrency: 1 });
    await d.start({ releaseOrphanedLeases: false });
    for (let i = 1; i <= 5; i++) {
      const admissions = [d.admit(ep, T0)];
      assert.deepEqual(kinds(admissions), ['leased'], `delivery ${i} is sent: the failures before it hold no slot`);
      d.settle({ kind: 'committed', message: message(a.id, T0), app: { id: a.id, headerStyle: a.headerStyle }, admissions, inserted: [{ deliveryId: i, leaseToken: 1 }] });
      await turns(3);
    }
    assert.equal(sent.length, 5);
    assert.equal(d.circuitsOf(ep).endpoint.state, 'open', 'five failures open the circuit though none is recorded');
    assert.deepEqual(kinds([d.admit(ep, T0)]), ['backlog'], 'nothing more is sent through an open circuit');
    written();
    await d.stop(0);
  });
});

/**
 * PostgreSQL specifics: migrations under the advisory lock, and what several nodes sharing
 * one database rely on (capped claims, fencing, notices). The storage contracts run on
 * PostgreSQL in the other files of this folder. Each store here
 * plays one node; time is passed in, so nothing depends on timing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Endpoint, Message } from '../../src/domain/model.js';
import type { ClusterNotice } from '../../src/storage/contract/cluster.js';
import type { PublishItem } from '../../src/storage/contract/messages.js';
import { appliedVersions, migrationFiles, runMigrations } from '../../src/storage/postgres/migrator.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { AttemptRecord, ClaimedDelivery } from '../../src/storage/contract/store.js';
import { log as ingestLog, source, token } from '../helpers/ingest-store-contract.js';
import { T0, app, endpoint, message } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { PostgresStore as Pg } from '../../src/storage/postgres/postgres-store.js';
import { PgConnection } from '../../src/storage/postgres/connection.js';
import { PgIngestStore } from '../../src/storage/postgres/ingest.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';


function success(c: ClaimedDelivery, at: number): AttemptRecord {
  return {
    attempt: {
      id: newId('attempt', at),
      messageId: c.message.id,
      endpointId: c.endpoint.id,
      appId: c.app.id,
      url: c.endpoint.url,
      status: DeliveryStatus.Success,
      responseStatusCode: 200,
      response: '',
      responseDurationMs: 1,
      triggerType: c.trigger,
      createdAt: at,
    },
    deliveryId: c.deliveryId,
    leaseToken: c.leaseToken,
    next: { status: DeliveryStatus.Success },
    disableEndpoint: false,
  };
}

describe('postgres migrations', { skip: skipWithoutPostgres }, () => {
  let s: TestSchema;
  before(async () => {
    s = await createTestSchema();
  });
  after(async () => s.drop());

  it('are applied once when nodes start together, each in its own transaction', async () => {
    const nodes = [s.store(2), s.store(2), s.store(2)];
    const applied = await Promise.all(nodes.map((n) => runMigrations(n.sql)));
    const all = applied.flat().sort();
    assert.deepEqual(all, migrationFiles().map((f) => f.name), 'every migration applied by exactly one node');
    assert.deepEqual(await appliedVersions(nodes[0]!.sql), migrationFiles().map((f) => f.version));
    assert.deepEqual(await runMigrations(nodes[1]!.sql), [], 'nothing left to apply');
  });

  it('creates the schema named by search_path if it is missing', async () => {
    const { PostgresStore } = await import('../../src/storage/postgres/postgres-store.js');
    const { TEST_DATABASE_URL } = await import('../helpers/pg.js');
    const schema = `${s.schema}_new`;
    const store = new PostgresStore({ url: TEST_DATABASE_URL, schema, max: 1 });
    try {
      await store.migrate();
      const [r] = await store.sql`SELECT current_schema() AS cs`;
      assert.equal(r?.cs, schema);
      await store.sql`DROP SCHEMA ${store.sql(schema)} CASCADE`;
    } finally {
      await store.close();
    }
  });
});

describe('postgres: nodes sharing one database', { skip: skipWithoutPostgres }, () => {
  let s: TestSchema;
  let a: PostgresStore;
  let b: PostgresStore;
  before(async () => {
    s = await createTestSchema();
    a = s.store();
    b = s.store();
    await a.migrate();
    await b.migrate();
  });
  after(async () => s.drop());

  async function setup(over: Partial<Endpoint> = {}, n = 10): Promise<{ ep: Endpoint; msgs: Message[] }> {
    const ap = app();
    await a.createApplication(ap);
    const ep = endpoint(ap.id, over);
    await a.createEndpoint(ep);
    const msgs = Array.from({ length: n }, (_, i) => message(ap.id, T0 + i));
    await a.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] })));
    return { ep, msgs };
  }

  it('hold an endpoint concurrency cap across nodes and free a slot when an attempt is recorded', async () => {
    const { ep } = await setup();
    const now = T0 + 100;
    const first = await a.cluster.claimDueCapped(ep.id, 10, now, now + 60_000, 3);
    assert.equal(first.claims.length, 3);
    assert.ok(first.retryInMs !== null && first.retryInMs > 0, 'held back by the cap: try again later');
    const other = await b.cluster.claimDueCapped(ep.id, 10, now, now + 60_000, 3);
    assert.equal(other.claims.length, 0, 'the other node sees the cap already used');
    assert.notEqual(other.retryInMs, null);
    await a.recordAttempts([success(first.claims[0]!, now + 5)]);
    const freed = await b.cluster.claimDueCapped(ep.id, 10, now + 10, now + 60_000, 3);
    assert.equal(freed.claims.length, 1);
    // Expired leases no longer count: the lease holders are presumed dead.
    const later = now + 60_001;
    const retaken = await b.cluster.claimDueCapped(ep.id, 20, later, later + 60_000, 20);
    assert.equal(retaken.claims.length, 9, 'expired leases and the rest are claimed');
    assert.equal(retaken.retryInMs, null, 'the queue is drained: nothing to retry');
  });

  it('share one token bucket per endpoint between nodes', async () => {
    const { ep } = await setup({ throttleRate: 2 }, 8);
    const now = T0 + 1000;
    const burst = await a.cluster.claimDueCapped(ep.id, 10, now, now + 60_000, 100);
    assert.equal(burst.claims.length, 1, 'a full bucket holds a twentieth of a second of tokens, at least one');
    const none = await b.cluster.claimDueCapped(ep.id, 10, now, now + 60_000, 100);
    assert.equal(none.claims.length, 0);
    assert.equal(none.retryInMs, 500, 'the next token comes in 1/rate seconds');
    const half = await b.cluster.claimDueCapped(ep.id, 10, now + 500, now + 60_000, 100);
    assert.equal(half.claims.length, 1);
    const again = await a.cluster.claimDueCapped(ep.id, 10, now + 600, now + 60_000, 100);
    assert.equal(again.claims.length, 0, 'a token is not taken twice');
    assert.equal(again.retryInMs, 400);
    const [row] = await a.sql`SELECT tokens, updated_at FROM endpoint_limits WHERE endpoint_id = ${ep.id}`;
    assert.ok(Math.abs((row!.tokens as number) - 0.2) < 1e-9, `bucket state ${String(row!.tokens)}`);
    // Over any window, claims never exceed burst + rate * elapsed.
    let total = burst.claims.length + half.claims.length;
    for (let t = now + 1000; t <= now + 4000; t += 250) total += (await (t % 500 === 0 ? a : b).cluster.claimDueCapped(ep.id, 10, t, t + 60_000, 100)).claims.length;
    assert.ok(total <= 1 + 2 * 4, `at most burst + rate * 4 s (${total})`);
    assert.equal(total, 8, 'and the tokens are all used');
  });

  it('claim for every kind of endpoint, whichever of the quick and the full claim serves it', async () => {
    // Plain endpoints are claimed in one round trip; rate-limited and disabled ones need the
    // full claim, which a node then keeps using for that endpoint a while.
    const { ep } = await setup({ throttleRate: 2 }, 6);
    const now = T0 + 1000;
    assert.equal((await a.cluster.claimDueCapped(ep.id, 10, now, now + 60_000, 100)).claims.length, 1, 'the bucket: one token');
    await a.updateEndpoint({ ...ep, throttleRate: null });
    const unlimited = await a.cluster.claimDueCapped(ep.id, 10, now + 1, now + 60_000, 3);
    assert.equal(unlimited.claims.length, 2, 'no rate limit any more: the concurrency cap alone (3, one live)');
    assert.equal(unlimited.retryInMs, 500);
    const quick = await b.cluster.claimDueCapped(ep.id, 10, now + 2, now + 60_000, 5);
    assert.equal(quick.claims.length, 2, 'the other node, on the quick path, counts the same live leases');
    await a.updateEndpoint({ ...ep, throttleRate: null, disabled: true });
    const disabled = await b.cluster.claimDueCapped(ep.id, 10, now + 3, now + 60_000, 100);
    assert.deepEqual(disabled, { claims: [], retryInMs: null }, 'nothing claimed for a disabled endpoint');
    const [row] = await a.sql`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = ${ep.id} AND status = ${DeliveryStatus.Fail}`;
    assert.equal(row?.n, 1, 'and the one still waiting failed');
  });

  it('grant leases asked for at publish time only within the caps counted across nodes', async () => {
    const capped = new Pg({ url: TEST_DATABASE_URL, schema: s.schema, max: 2, endpointConcurrency: 3 });
    try {
      const ap = app();
      await a.createApplication(ap);
      const ep = endpoint(ap.id);
      const rated = endpoint(ap.id, { throttleRate: 2 });
      await a.createEndpoint(ep);
      await a.createEndpoint(rated);
      const msgs = Array.from({ length: 5 }, (_, i) => message(ap.id, T0 + i));
      const lease = T0 + 60_000;
      const results = await capped.publish(msgs.map((m) => ({ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: lease }, { endpointId: rated.id, leaseUntil: lease }] })));
      const tokens = (endpointId: string) => results.map((r) => (r.kind === 'created' ? r.deliveries.find((d) => d.endpointId === endpointId)!.leaseToken : -1));
      assert.deepEqual(tokens(ep.id), [1, 1, 1, 0, 0], 'three leased (the cap), the rest waiting to be claimed');
      assert.deepEqual(tokens(rated.id), [0, 0, 0, 0, 0], 'none leased for a rate-limited endpoint: its deliveries are claimed, which pays its bucket');
      const rateClaim = await b.cluster.claimDueCapped(rated.id, 10, T0 + 10, lease, 3);
      assert.equal(rateClaim.claims.length, 1, 'the bucket holds one token (a twentieth of a second of tokens, at least one)');
      const other = await b.cluster.claimDueCapped(ep.id, 10, T0 + 10, lease, 3);
      assert.equal(other.claims.length, 0, 'another node finds the cap used');
      assert.ok((await b.dueEndpoints(T0 + 10, 100)).includes(ep.id), 'the refused ones are due');
    } finally {
      await capped.close();
    }
  });

  it("leave a node's ended requests out of the caps, in claims (quick and full) and in leases at publish", async () => {
    const c = new Pg({ url: TEST_DATABASE_URL, schema: s.schema, max: 2, endpointConcurrency: 2 });
    try {
      let ended: number[] = [];
      c.cluster.countEndedRequests(() => ended);
      for (const over of [{}, { throttleRate: 1000 }]) {
        const { ep } = await setup(over, 4);
        const now = T0 + 100;
        const lease = now + 60_000;
        const first = await c.cluster.claimDueCapped(ep.id, 10, now, lease, 2);
        assert.equal(first.claims.length, 2, 'the cap');
        assert.equal((await c.cluster.claimDueCapped(ep.id, 10, now, lease, 2)).claims.length, 0, 'both leases live');
        ended = [first.claims[0]!.deliveryId];
        const more = await c.cluster.claimDueCapped(ep.id, 10, now, lease, 2);
        assert.equal(more.claims.length, 1, 'a request that ended holds no slot, though its attempt is not recorded');
        assert.equal((await b.cluster.claimDueCapped(ep.id, 10, now, lease, 2)).claims.length, 0, 'another node, told of nothing, counts every live lease');
        ended = [];
      }
      const { ep } = await setup({}, 0);
      const leaseAtPublish = async (): Promise<number> => {
        const [r] = await c.publish([{ message: message(ep.appId, T0 + 50), deliveries: [{ endpointId: ep.id, leaseUntil: T0 + 60_000 }] }]);
        return r?.kind === 'created' ? r.deliveries[0]!.leaseToken : -1;
      };
      assert.equal(await leaseAtPublish(), 1);
      assert.equal(await leaseAtPublish(), 1);
      assert.equal(await leaseAtPublish(), 0, 'the cap is reached');
      const [leased] = await a.sql`SELECT min(id) AS id FROM deliveries WHERE endpoint_id = ${ep.id} AND status = ${DeliveryStatus.Sending}`;
      ended = [leased!.id as number];
      assert.equal(await leaseAtPublish(), 1, 'an ended request frees its slot at publish too');
    } finally {
      await c.close();
    }
  });

  it('fence a node whose lease expired: its late attempt does not overwrite the new lease', async () => {
    const { ep, msgs } = await setup({}, 1);
    const old = (await a.cluster.claimDueCapped(ep.id, 1, T0 + 10, T0 + 100, 5)).claims[0]!;
    const fresh = (await b.cluster.claimDueCapped(ep.id, 1, T0 + 101, T0 + 60_000, 5)).claims[0]!;
    assert.equal(fresh.deliveryId, old.deliveryId);
    assert.ok(fresh.leaseToken > old.leaseToken);
    await a.recordAttempts([{ ...success(old, T0 + 150), next: { status: DeliveryStatus.Pending, at: T0 + 9_999 } }]);
    const [d] = await a.sql`SELECT status, next_attempt_at FROM deliveries WHERE id = ${old.deliveryId}`;
    assert.equal(d!.status, DeliveryStatus.Sending, 'still leased by the new claimer');
    assert.equal(d!.next_attempt_at, T0 + 60_000);
    await b.recordAttempts([success(fresh, T0 + 200)]);
    const attempts = await a.listAttemptsByMessage(msgs[0]!.appId, msgs[0]!.id, { limit: 10 });
    assert.equal(attempts.data.length, 2, 'both attempts are on record');
  });

  it('find due endpoints with a skip scan, whatever their backlog', async () => {
    const due = await setup({}, 3);
    const later = await setup({}, 0);
    const m = message(later.ep.appId, T0 + 50_000);
    await a.publish([{ message: m, deliveries: [{ endpointId: later.ep.id, leaseUntil: null }] }]);
    const ids = await b.dueEndpoints(T0 + 10, 10_000);
    assert.ok(ids.includes(due.ep.id));
    assert.ok(!ids.includes(later.ep.id), 'an endpoint whose deliveries are due later is not listed');
    assert.ok((await b.dueEndpoints(T0 + 50_000, 10_000)).includes(later.ep.id));
  });

  it('keep text exactly as sent, NUL and U+FFFF included, in plain and batched writes', async () => {
    const odd = 'a\u0000b\uFFFFc\uFFFF0d\\u0000';
    const ap = { ...app(), name: odd, uid: 'odd\u0000uid' };
    await a.createApplication(ap);
    assert.equal((await b.getApplication('odd\u0000uid'))?.name, odd);
    assert.equal(await b.getApplication('odd'), null);
    const { ep, msgs } = await setup({}, 1);
    const c = (await a.cluster.claimDueCapped(ep.id, 1, T0 + 10, T0 + 60_000, 5)).claims[0]!;
    const rec = success(c, T0 + 20);
    await a.recordAttempts([{ ...rec, attempt: { ...rec.attempt, response: odd } }]);
    const attempts = await b.listAttemptsByMessage(msgs[0]!.appId, msgs[0]!.id, { limit: 1 });
    assert.equal(attempts.data[0]!.response, odd);
  });

  it('tell other nodes what was published, changed or fell due, and never a node itself', async () => {
    const seenByB: ClusterNotice[] = [];
    const seenByA: ClusterNotice[] = [];
    await b.cluster.listen((n) => seenByB.push(n));
    await a.cluster.listen((n) => seenByA.push(n));
    const ap = app();
    await a.createApplication(ap);
    const ep = endpoint(ap.id);
    await a.createEndpoint(ep);
    const m = message(ap.id, T0);
    await a.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
    await a.resend(m.id, ep.id, ap.id, T0 + 5);
    await eventually(() => seenByB.length >= 3, 'three notices heard by the other node');
    assert.deepEqual(seenByB, [
      { kind: 'endpoints-changed', appId: ap.id },
      { kind: 'published', appId: ap.id, messageId: m.id, endpointIds: [ep.id] },
      { kind: 'due', endpointIds: [ep.id] },
    ]);
    assert.deepEqual(seenByA, [], 'a node does not hear its own notices');
    assert.deepEqual((await b.cluster.getMessages([{ appId: ap.id, id: m.id }])).map((x) => x.payload), ['{"a":1}']);

    // Polling endpoints and poller tokens: changing, rotating and deleting tell the others (creating has nothing to forget).
    const pe = { id: newId('pollingEndpoint', T0), appId: ap.id, uid: null, description: '', eventTypes: null, channels: null, metadata: {}, createdAt: T0, updatedAt: T0 };
    const token = (n: number) => ({ id: newId('pollerToken', T0), pollingEndpointId: pe.id, appId: ap.id, tokenHash: `hash-${n}`, token: `sb_poller_${n}`, createdAt: T0, expiresAt: null });
    await a.pull.createPollingEndpoint(pe, token(1));
    await a.pull.updatePollingEndpoint({ ...pe, description: 'changed' });
    await a.pull.rotateToken(token(2), T0, T0);
    await a.pull.deletePollingEndpoint(ap.id, pe.id);
    await eventually(() => seenByB.length >= 6, 'three more notices heard by the other node');
    assert.deepEqual(seenByB.slice(3), Array.from({ length: 3 }, () => ({ kind: 'pollers-changed', appId: ap.id })));
    assert.deepEqual(seenByA, []);
  });

  it('tell other nodes of every message of a large publish, in order, naming the endpoints left due', async () => {
    const seenByB: ClusterNotice[] = [];
    await b.cluster.listen((n) => seenByB.push(n));
    const ap = app();
    await a.createApplication(ap);
    const eps: Endpoint[] = [];
    for (let i = 0; i < 102; i++) {
      const ep = endpoint(ap.id);
      await a.createEndpoint(ep);
      eps.push(ep);
    }
    const [due, leased] = eps as [Endpoint, Endpoint];
    await eventually(() => seenByB.length === 102, 'the endpoints’ notices');
    seenByB.length = 0;
    // 300 messages: the notices take several payloads (each under 8000 bytes, or the publish
    // would fail). The first also has a leased delivery, the second one pending that the
    // publishing node claims itself (not listed), the last one 102 deliveries left due (too
    // many to list), and one item repeats an eventId (no notice: nothing was published).
    const items: PublishItem[] = Array.from({ length: 300 }, (_, i) => ({ message: message(ap.id, T0 + i), deliveries: [{ endpointId: due.id, leaseUntil: null }] }));
    items[0]!.deliveries.push({ endpointId: leased.id, leaseUntil: T0 + 60_000 });
    items[1]!.deliveries.push({ endpointId: leased.id, leaseUntil: null, claimedHere: true });
    items[299]!.deliveries = eps.map((e) => ({ endpointId: e.id, leaseUntil: null }));
    items[5]!.message.eventId = 'once';
    items[6]!.message.eventId = 'once';
    const results = await a.publish(items);
    assert.equal(results[6]!.kind, 'duplicate-event-id');
    const published = items.filter((_, i) => i !== 6);
    await eventually(() => seenByB.length === published.length, 'a notice for every message published');
    assert.deepEqual(
      seenByB,
      published.map(({ message: m }, i) => ({ kind: 'published', appId: ap.id, messageId: m.id, endpointIds: i === published.length - 1 ? null : [due.id] })),
    );
  });

  it('keep the notices of a schema to the nodes of that schema', async () => {
    const other = await createTestSchema();
    try {
      const stranger = other.store();
      const strangerPeer = other.store();
      await stranger.migrate();
      const seenByStranger: ClusterNotice[] = [];
      const seenByStrangerPeer: ClusterNotice[] = [];
      const seenByB: ClusterNotice[] = [];
      await stranger.cluster.listen((n) => seenByStranger.push(n));
      await strangerPeer.cluster.listen((n) => seenByStrangerPeer.push(n));
      await b.cluster.listen((n) => seenByB.push(n));
      const ours = app();
      await a.createApplication(ours);
      await a.createEndpoint(endpoint(ours.id));
      const theirs = app();
      await stranger.createApplication(theirs);
      await stranger.createEndpoint(endpoint(theirs.id));
      // PostgreSQL hands notices to every listener in commit order, so once the other schema's
      // peer has heard `theirs`, it has also passed `ours`, had it been on the same channel.
      await eventually(() => seenByB.length > 0 && seenByStrangerPeer.length > 0, 'each schema hearing its own notice');
      assert.deepEqual(seenByB, [{ kind: 'endpoints-changed', appId: ours.id }]);
      assert.deepEqual(seenByStrangerPeer, [{ kind: 'endpoints-changed', appId: theirs.id }]);
      assert.deepEqual(seenByStranger, [], 'a node does not hear its own notices');
    } finally {
      await other.drop();
    }
  });
});

describe('postgres: closing the pool', { skip: skipWithoutPostgres }, () => {
  let s: TestSchema;
  before(async () => {
    s = await createTestSchema();
  });
  after(async () => s.drop());

  const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

  it('leaves no connection open, though queries were still queued when it closed', async () => {
    const before = sockets();
    const store = new Pg({ url: TEST_DATABASE_URL, schema: s.schema, max: 2 });
    await store.migrate();
    // Five times more queries than connections: most wait in the pool's queue when it closes.
    const queries = Array.from({ length: 10 }, (_, i) => store.sql`SELECT pg_sleep(0.02), ${i}::int AS i`.then(() => 'done'));
    await store.close();
    const settled = await Promise.allSettled(queries);
    assert.ok(settled.every((r) => r.status === 'fulfilled' || r.status === 'rejected'));
    assert.equal(sockets(), before, 'the sockets open before the store was, and no more');
  });
});

describe('postgres: advice on the server\'s settings', { skip: skipWithoutPostgres }, () => {
  /** The server's settings as a session of the test database sees them. */
  async function settings(url: string): Promise<{ autovacuum: string; track_counts: string }> {
    const store = new Pg({ url, max: 1 });
    try {
      const [r] = await store.sql<{ autovacuum: string; track_counts: string }[]>`SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts`;
      return r!;
    } finally {
      await store.close();
    }
  }

  it('warns exactly when autovacuum is not running, naming the settings', async () => {
    const seen = await settings(TEST_DATABASE_URL);
    const store = new Pg({ url: TEST_DATABASE_URL, max: 1 });
    try {
      const advice = await store.advisories();
      if (seen.autovacuum === 'on' && seen.track_counts === 'on') assert.deepEqual(advice, []);
      else {
        assert.equal(advice.length, 1);
        assert.match(advice[0]!, new RegExp(`autovacuum = ${seen.autovacuum}, track_counts = ${seen.track_counts}`));
        assert.match(advice[0]!, /VACUUM/);
      }
    } finally {
      await store.close();
    }
  });

  it('warns when the sessions do not count row changes (track_counts off), which autovacuum needs', async () => {
    // A URL's query parameters are session settings; track_counts needs a superuser, as the tests connect.
    const u = new URL(TEST_DATABASE_URL);
    u.searchParams.set('track_counts', 'off');
    assert.equal((await settings(u.toString())).track_counts, 'off');
    const store = new Pg({ url: u.toString(), max: 1 });
    try {
      const advice = await store.advisories();
      assert.equal(advice.length, 1);
      assert.match(advice[0]!, /track_counts = off/);
    } finally {
      await store.close();
    }
  });
});

describe('postgres: writes that need not wait for the disk', { skip: skipWithoutPostgres }, () => {
  let s: TestSchema;
  before(async () => {
    s = await createTestSchema();
    await s.store(1).migrate();
  });
  after(async () => s.drop());

  it('commits the logs of refused ingest requests without waiting for their WAL flush', async () => {
    // Anyone holding a source's URL can make such logs, as fast as the source's request limit lets them.
    const c = new PgConnection({ url: TEST_DATABASE_URL, schema: s.schema, max: 1 });
    try {
      const seen: string[] = [];
      const transaction = c.transaction.bind(c);
      c.transaction = (fn, opts) =>
        transaction(async (tx, commit) => {
          const [row] = await tx<{ v: string }[]>`SELECT current_setting('synchronous_commit') AS v`;
          seen.push(row!.v);
          return fn(tx, commit);
        }, opts);
      const ingest = new PgIngestStore(c);
      const src = source();
      await ingest.createSource(src, token(), null);
      const sourceId = src.id;
      const log = ingestLog(sourceId, T0, { errorText: 'no valid signature' });
      await ingest.addLogs([log], 10);
      assert.deepEqual(seen, ['off'], 'the log was written in one transaction, its commit not waiting for the disk');
      assert.deepEqual((await ingest.listLogs(sourceId, { limit: 10 })).data.map((l) => l.errorText), ['no valid signature']);
    } finally {
      await c.end(1);
    }
  });
});

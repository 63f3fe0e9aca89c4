/**
 * Attempts partitioned by time on PostgreSQL: migration 0034 turns a table already holding
 * attempts into a partitioned one, and the retention store's upkeep creates partitions
 * ahead, drops those past retention unless an unfinished delivery's history is in them, and
 * moves rows of the default partition into the partition of their day.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus } from '../../src/domain/model.js';
import { DAY_MS } from '../../src/operations/retention.js';
import { ATTEMPTS, createAttemptPartition } from '../../src/storage/postgres/attempt-partitions.js';
import { dayPartitionName } from '../../src/storage/postgres/time-partitions.js';
import { runMigrations } from '../../src/storage/postgres/migrator.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { PartitionUpkeep } from '../../src/storage/contract/retention.js';
import { T0, attemptRecord, message } from '../helpers/fixtures.js';
import { beforeMigration, partitionHolding, tablePartitions, upkeepOf, upkeepStore } from '../helpers/pg-migrations.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayName = (dayMs: number) => dayPartitionName(ATTEMPTS, dayMs);
/** What an upkeep round did to the partitions of `attempts` (messages' are tested in postgres-message-partitions.test.ts). */
const ofAttempts = (r: PartitionUpkeep) => upkeepOf(r, 'attempts');

const partitionNames = (store: PostgresStore) => tablePartitions(store, 'attempts');
const partitionOf = (store: PostgresStore, id: string) => partitionHolding(store, 'attempts', id);

describe('postgres: migration 0034 on a table holding attempts', { skip: skipWithoutPostgres }, () => {
  const fixture = beforeMigration(34);

  it('keeps every row and column, partitions the table by created_at, and the store reads it', async () => {
    const store = fixture.schema.store(2);
    await runMigrations(store.sql, fixture.dir);
    const times = [T0, T0 + 1, today + 3_600_000];
    const ids = times.map((at) => newId('attempt', at));
    const appId = newId('application', T0);
    const messageId = newId('message', T0);
    for (const [i, at] of times.entries()) {
      await store.sql`INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
        VALUES (${ids[i]!}, ${messageId}, ${'ep_x'}, ${appId}, ${'http://h/' + i}, ${i % 2}, ${200 + i}, ${'body ' + i}, ${i * 10}, ${0}, ${at})`;
    }
    const before = await store.sql`SELECT * FROM attempts ORDER BY id`;
    const columnsBefore = await store.sql`SELECT column_name, data_type, collation_name, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'attempts' ORDER BY ordinal_position`;

    // 0034 first; later migrations follow it.
    assert.equal((await runMigrations(store.sql))[0], '0034_attempts_partitioned.sql');

    assert.deepEqual(await store.sql`SELECT * FROM attempts ORDER BY id`, before, 'every row kept as it was');
    assert.deepEqual(
      await store.sql`SELECT column_name, data_type, collation_name, is_nullable, column_default FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'attempts' ORDER BY ordinal_position`,
      columnsBefore,
      'every column kept with its type, collation and default',
    );
    const [part] = await store.sql`SELECT p.partstrat AS s, a.attname AS key FROM pg_partitioned_table p
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = 'attempts'::regclass`;
    assert.deepEqual({ ...part }, { s: 'r', key: 'created_at' }, 'range-partitioned by created_at');
    assert.deepEqual(await partitionNames(store), ['attempts_default', 'attempts_history', dayName(today + 2 * DAY_MS), dayName(today + 3 * DAY_MS), dayName(today + DAY_MS)].sort());
    for (const id of ids) assert.equal(await partitionOf(store, id), 'attempts_history', 'the old table is the first partition');
    const indexes = await store.sql`SELECT c.relname AS n, pg_get_indexdef(c.oid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'attempts'::regclass ORDER BY 1`;
    // As migration 0038 leaves them: the primary key led by the application.
    assert.deepEqual(
      indexes.map((r) => [r.n, (r.def as string).replace(/ ON ONLY \S+ USING/, ' ON attempts USING')]),
      [
        ['attempts_endpoint', 'CREATE INDEX attempts_endpoint ON attempts USING btree (endpoint_id, id)'],
        ['attempts_message', 'CREATE INDEX attempts_message ON attempts USING btree (message_id, id)'],
        ['attempts_pkey', 'CREATE UNIQUE INDEX attempts_pkey ON attempts USING btree (app_id, id, created_at)'],
      ],
    );

    const got = await store.getAttempt(appId, messageId, ids[1]!);
    assert.equal(got?.response, 'body 1');
    assert.equal(got?.createdAt, T0 + 1);
    const page = await store.listAttemptsByMessage(appId, messageId, { limit: 10 });
    assert.deepEqual(
      page.data.map((a) => a.id),
      [...ids].reverse(),
    );
  });
});

describe('postgres: attempt partition upkeep', { skip: skipWithoutPostgres }, () => {
  const fixture = upkeepStore();
  let store: PostgresStore;
  before(() => (store = fixture.store));
  const { appId, ep, delivered } = fixture;

  it('creates the partitions of the days ahead, once: a second run and two nodes at once find them made', async () => {
    const now = today + 10 * DAY_MS + 5_000;
    const ahead = [10, 11, 12, 13].map((d) => dayName(today + d * DAY_MS));
    const first = ofAttempts(await store.maintainPartitions(now, null));
    assert.deepEqual(first, { created: ahead, dropped: [], droppedMessages: 0, kept: [], skipped: [] });
    assert.deepEqual(ofAttempts(await store.maintainPartitions(now, null)), { created: [], dropped: [], droppedMessages: 0, kept: [], skipped: [] }, 'nothing left to do');

    const other = fixture.schema.store(2);
    const later = today + 20 * DAY_MS;
    const both = (await Promise.all([store.maintainPartitions(later, null), other.maintainPartitions(later, null)])).map(ofAttempts);
    assert.deepEqual(
      both.map((r) => r.skipped),
      [[], []],
      'neither node fails',
    );
    assert.deepEqual(
      both.flatMap((r) => r.created).sort(),
      [20, 21, 22, 23].map((d) => dayName(today + d * DAY_MS)),
      'each partition created by one of them',
    );
    for (const name of [...ahead, ...both.flatMap((r) => r.created)]) assert.ok((await partitionNames(store)).includes(name), name);
  });

  it('drops a partition past retention whose attempts are finished, keeps one holding an open delivery\'s history', async () => {
    const day1 = today + DAY_MS;
    const day2 = today + 2 * DAY_MS;
    const done = await delivered(day1 + 3_600_000);
    const open = await delivered(day2 + 3_600_000, { open: true });
    assert.equal(await partitionOf(store, done.attemptId), dayName(day1));
    assert.equal(await partitionOf(store, open.attemptId), dayName(day2));

    const r = ofAttempts(await store.maintainPartitions(today + 30 * DAY_MS, today + 3 * DAY_MS));
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(r.dropped, ['attempts_history', dayName(day1)]);
    assert.deepEqual(r.kept, [dayName(day2)]);
    const names = await partitionNames(store);
    assert.ok(!names.includes(dayName(day1)) && names.includes(dayName(day2)) && names.includes('attempts_default'));
    assert.equal((await store.listAttemptsByMessage(appId, done.m.id, { limit: 10 })).data.length, 0, 'the finished message\'s attempt went with its partition');
    assert.equal((await store.getAttempt(appId, open.m.id, open.attemptId))?.id, open.attemptId, 'the open delivery\'s attempt stays');
    assert.equal(await store.getMessage(appId, done.m.id), null, 'the finished message went with its own day\'s partition');
    assert.ok(await store.getMessage(appId, open.m.id), 'the open one stays');
  });

  it('moves rows of the default partition into the partition of their day when it is created', async () => {
    const day = today + 40 * DAY_MS;
    const at = day + 7_200_000;
    const { m, attemptId } = await delivered(at);
    assert.equal(await partitionOf(store, attemptId), 'attempts_default', 'no partition of that day yet');

    const r = ofAttempts(await store.maintainPartitions(day, null));
    assert.deepEqual(r, { created: [40, 41, 42, 43].map((d) => dayName(today + d * DAY_MS)), dropped: [], droppedMessages: 0, kept: [], skipped: [] });
    assert.equal(await partitionOf(store, attemptId), dayName(day));
    const [indexes] = await store.sql`SELECT COUNT(*)::int AS n FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indexrelid WHERE i.indrelid = ${dayName(day)}::regclass`;
    assert.equal(indexes?.n, 3, 'the partition has the three indexes of the table, attached to them');
    const [left] = await store.sql`SELECT COUNT(*)::int AS n FROM attempts_default`;
    assert.equal(left?.n, 0);
    assert.equal((await store.getAttempt(appId, m.id, attemptId))?.createdAt, at);
    assert.deepEqual(
      (await store.listAttemptsByEndpoint(appId, ep.id, { limit: 1 })).data.map((a) => a.id),
      [attemptId],
      'the newest attempt of the endpoint, read across partitions',
    );
  });

  it('attempt records wait while the partition of their day is created under them, then go into that partition', async () => {
    const day = today + 60 * DAY_MS;
    const at = day + 3_600_000;
    const m = message(appId, at);
    await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
    const [c] = await store.claimDue(ep.id, 1, at, at + 60_000);
    assert.ok(c);
    const rec = attemptRecord(c, { status: DeliveryStatus.Success }, at);
    // Upkeep on another node creates the day's partition; while its transaction is open the
    // record waits for it (routed by the partitions as they were before, it would go to the
    // default partition and fail its new constraint, SQLSTATE 23514).
    await fixture.writeWhileCreating(
      async (tx) => assert.equal(await createAttemptPartition(tx, day, day + DAY_MS), true),
      () => store.recordAttempts([rec]),
    );
    assert.equal(await partitionOf(store, rec.attempt.id), dayName(day));
    assert.equal((await store.getAttempt(appId, m.id, rec.attempt.id))?.id, rec.attempt.id);
  });

  it('the purge deletes a message\'s attempts in every partition they landed in', async () => {
    const first = today + 50 * DAY_MS + 1000;
    const retry = first + 3 * DAY_MS;
    await store.maintainPartitions(first, null);
    const m = message(appId, first);
    await store.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
    const [c1] = await store.claimDue(ep.id, 1, first, first + 60_000);
    assert.ok(c1);
    await store.recordAttempts([attemptRecord(c1, { status: DeliveryStatus.Pending, at: retry }, first)]);
    const [c2] = await store.claimDue(ep.id, 1, retry, retry + 60_000);
    assert.equal(c2?.message.id, m.id);
    await store.recordAttempts([attemptRecord(c2, { status: DeliveryStatus.Success }, retry)]);
    const placed = await store.sql`SELECT tableoid::regclass::text AS p FROM attempts WHERE message_id = ${m.id} ORDER BY id`;
    assert.deepEqual(
      placed.map((r) => r.p),
      [dayName(today + 50 * DAY_MS), dayName(today + 53 * DAY_MS)],
    );
    assert.equal((await store.listAttemptsByMessage(appId, m.id, { limit: 10 })).data.length, 2, 'the message\'s attempts, read from the partitions from its day on');

    assert.ok((await store.purgeMessagesBefore(retry + DAY_MS, 100)) >= 1);
    assert.equal(await store.getMessage(appId, m.id), null);
    const [left] = await store.sql`SELECT COUNT(*)::int AS n FROM attempts WHERE message_id = ${m.id}`;
    assert.equal(left?.n, 0);
  });
});

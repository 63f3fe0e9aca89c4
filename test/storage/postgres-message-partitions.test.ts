/**
 * Messages partitioned by day on PostgreSQL: migration 0037 turns a table already holding
 * messages into one partitioned by id with the keys led by the application id and event ids
 * in a table of their own; the retention store's upkeep creates days ahead and drops days
 * past retention with what hangs off their messages, unless a message of the day still has
 * an unfinished delivery; the row-by-row purge leaves a day partition to its drop.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { idBoundary, newId } from '../../src/domain/ids.js';
import { DAY_MS } from '../../src/operations/retention.js';
import type { PartitionUpkeep } from '../../src/storage/contract/retention.js';
import { runMigrations } from '../../src/storage/postgres/migrator.js';
import { MESSAGES } from '../../src/storage/postgres/message-partitions.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { createDayPartition, dayPartitionName } from '../../src/storage/postgres/time-partitions.js';
import { T0, app, message } from '../helpers/fixtures.js';
import { beforeMigration, partitionHolding, tablePartitions, upkeepOf, upkeepStore } from '../helpers/pg-migrations.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayName = (dayMs: number) => dayPartitionName(MESSAGES, dayMs);
const noFilter = { eventTypes: null, channels: null, tags: null };

/** What an upkeep round did to the partitions of `messages`. */
const ofMessages = (r: PartitionUpkeep) => upkeepOf(r, 'messages');

const partitionNames = (store: PostgresStore) => tablePartitions(store, 'messages');
const partitionOf = (store: PostgresStore, id: string) => partitionHolding(store, 'messages', id);

async function count(store: PostgresStore, table: string, messageId: string): Promise<number> {
  const [r] = await store.sql.unsafe(`SELECT COUNT(*)::int AS n FROM ${table} WHERE message_id = $1`, [messageId]);
  return r?.n as number;
}

describe('postgres: migration 0037 on a table holding messages', { skip: skipWithoutPostgres }, () => {
  const fixture = beforeMigration(37);

  it('keeps every row and column, partitions by id, leads the key with the application, and keeps event ids unique', async () => {
    const store = fixture.schema.store(2);
    await runMigrations(store.sql, fixture.dir);
    const appId = newId('application', T0);
    await store.createApplication(app({ id: appId, name: 'm' }));
    const old = message(appId, T0, { eventId: 'evt-old' });
    const recent = message(appId, today + 3_600_000);
    // An id that does not begin with its creation time sorts past every day's range.
    const odd = message(appId, T0 + 5, { id: 'msg_zzzzzzzzzzzzzzzzzzzzzzzzzzz' });
    for (const [i, m] of [old, recent, odd].entries()) {
      // Written as the publishes of the version before wrote them.
      await store.sql`INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, seq)
        VALUES (${m.id}, ${appId}, ${m.eventType}, ${m.eventId}, ${'["c"]'}::jsonb, NULL, ${m.payload}, ${m.createdAt}, ${i + 1})`;
    }
    await store.sql`UPDATE pull_sequence SET last = 3`;
    const before = await store.sql`SELECT * FROM messages ORDER BY id`;
    const columns = () => store.sql`SELECT column_name, data_type, collation_name, is_nullable FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'messages' ORDER BY ordinal_position`;
    const columnsBefore = await columns();

    assert.equal((await runMigrations(store.sql))[0], '0037_messages_partitioned.sql');

    assert.deepEqual(await store.sql`SELECT * FROM messages ORDER BY id`, before, 'every row kept as it was');
    assert.deepEqual(await columns(), columnsBefore, 'every column kept with its type and collation');
    const [part] = await store.sql`SELECT p.partstrat AS s, a.attname AS key FROM pg_partitioned_table p
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] WHERE p.partrelid = 'messages'::regclass`;
    assert.deepEqual({ ...part }, { s: 'r', key: 'id' }, 'range-partitioned by id');
    assert.deepEqual(await partitionNames(store), ['messages_default', 'messages_history', ...[1, 2, 3].map((d) => dayName(today + d * DAY_MS))].sort());
    const [bound] = await store.sql`SELECT pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_class c WHERE c.relname = ${dayName(today + DAY_MS)}`;
    assert.equal(bound?.b, `FOR VALUES FROM ('${idBoundary('message', today + DAY_MS)}') TO ('${idBoundary('message', today + 2 * DAY_MS)}')`, 'the migration computes the boundary ids as the code does');
    assert.equal(await partitionOf(store, old.id), 'messages_history');
    assert.equal(await partitionOf(store, recent.id), 'messages_history', 'today is still in the first partition');
    assert.equal(await partitionOf(store, odd.id), 'messages_default');
    const indexes = await store.sql`SELECT c.relname AS n, pg_get_indexdef(c.oid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'messages'::regclass ORDER BY 1`;
    assert.deepEqual(
      indexes.map((r) => [r.n, (r.def as string).replace(/ ON ONLY \S+ USING/, ' ON messages USING')]),
      [
        ['messages_app_seq', 'CREATE INDEX messages_app_seq ON messages USING btree (app_id, seq)'],
        ['messages_pkey', 'CREATE UNIQUE INDEX messages_pkey ON messages USING btree (app_id, id)'],
      ],
    );

    assert.equal((await store.getMessage(appId, 'evt-old'))?.id, old.id, 'found by its event id');
    const again = await store.publish([{ message: message(appId, today + 5_000, { eventId: 'evt-old' }), deliveries: [] }]);
    assert.deepEqual(again, [{ kind: 'duplicate-event-id', existingId: old.id }], 'an event id taken before the migration stays taken');
    assert.equal((await store.pull.readLog(appId, 0, 10, noFilter)).messages.length, 3, 'the pull log reads across the partitions');
  });
});

describe('postgres: message partition upkeep', { skip: skipWithoutPostgres }, () => {
  const fixture = upkeepStore();
  let store: PostgresStore;
  before(() => (store = fixture.store));
  const { appId } = fixture;
  /** Publishes a message at `at` and records an attempt on it (`upkeepStore().delivered`). */
  const delivered = async (at: number, o?: { eventId?: string; open?: boolean; retryDays?: number }) => (await fixture.delivered(at, o)).m;

  it('creates the days ahead; a message of a day without a partition moves into it when it is created', async () => {
    const far = today + 40 * DAY_MS;
    const m = message(appId, far + 1_000);
    await store.publish([{ message: m, deliveries: [] }]);
    assert.equal(await partitionOf(store, m.id), 'messages_default');
    const r = ofMessages(await store.maintainPartitions(far, null));
    assert.deepEqual(r, { created: [40, 41, 42, 43].map((d) => dayName(today + d * DAY_MS)), dropped: [], droppedMessages: 0, kept: [], skipped: [] });
    assert.equal(await partitionOf(store, m.id), dayName(far));
    assert.equal((await store.getMessage(appId, m.id))?.id, m.id);
  });

  it('a publish waits while the partition of its day is created under it, then goes into that partition', async () => {
    const day = today + 70 * DAY_MS;
    const m = message(appId, day + 3_600_000);
    // Upkeep on another node creates the day's partition; while its transaction is open the
    // publish waits for it. Routed by the partitions as they were before, the publish would go
    // to the default partition and fail its new constraint (SQLSTATE 23514) with a 500.
    await fixture.writeWhileCreating(
      async (tx) => assert.equal(await createDayPartition(tx, MESSAGES, day, day + DAY_MS), true),
      () => store.publish([{ message: m, deliveries: [{ endpointId: fixture.ep.id, leaseUntil: null }] }]),
    );
    assert.equal(await partitionOf(store, m.id), dayName(day));
    assert.equal((await store.getMessage(appId, m.id))?.id, m.id);
  });

  it('drops a finished day with its deliveries, later attempts and event ids, raises the pull horizon, and keeps a day with an open delivery', async () => {
    const day1 = today + DAY_MS;
    const day2 = today + 2 * DAY_MS;
    const done = await delivered(day1 + 3_600_000, { eventId: 'evt-1', retryDays: 3 });
    const open = await delivered(day2 + 3_600_000, { open: true });
    assert.equal(await partitionOf(store, done.id), dayName(day1));
    assert.equal(await count(store, 'attempts', done.id), 1, 'its attempt, recorded three days later');
    const [pos] = (await store.pull.readLog(appId, 0, 100, noFilter)).messages.filter((x) => x.message.id === done.id);
    assert.ok(pos);

    const r = ofMessages(await store.maintainPartitions(today + 30 * DAY_MS, today + 3 * DAY_MS));
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(r.dropped, ['messages_history', dayName(day1)]);
    assert.equal(r.droppedMessages, 1, 'the one message of the dropped day, counted');
    assert.deepEqual(r.kept, [dayName(day2)]);
    assert.ok(!(await partitionNames(store)).includes(dayName(day1)));
    assert.equal(await store.getMessage(appId, done.id), null);
    assert.equal(await store.getMessage(appId, 'evt-1'), null);
    assert.equal(await count(store, 'deliveries', done.id), 0, 'its delivery went');
    assert.equal(await count(store, 'attempts', done.id), 0, 'its attempt of a later day went');
    assert.equal(await count(store, 'message_event_ids', done.id), 0, 'its event id is free again');
    assert.ok((await store.pull.readLog(appId, 0, 10, noFilter)).horizon >= pos.seq, 'a cursor before the dropped day answers gone');
    assert.ok(await store.getMessage(appId, open.id), 'the day with an unfinished delivery stays');
    const reused = await store.publish([{ message: message(appId, today + 31 * DAY_MS, { eventId: 'evt-1' }), deliveries: [] }]);
    assert.equal(reused[0]?.kind, 'created');
  });

  it('the row-by-row purge leaves the day the cutoff falls in to its drop, and empties a day kept for an open delivery', async () => {
    const day = today + 50 * DAY_MS;
    await store.maintainPartitions(day, null);
    const early = await delivered(day + 1_000);
    const late = await delivered(day + 20 * 3_600_000);
    const kept = await delivered(day + DAY_MS + 1_000);
    await delivered(day + DAY_MS + 2_000, { open: true });

    await store.purgeMessagesBefore(day + 12 * 3_600_000, 100);
    assert.ok(await store.getMessage(appId, early.id), 'nothing of the day partition the cutoff falls in');

    // Cut off after both days: the open delivery keeps the second day, whose finished message
    // the purge deletes row by row; the first day is dropped whole.
    const cutoff = day + 2 * DAY_MS + 1;
    const r = ofMessages(await store.maintainPartitions(cutoff, cutoff));
    assert.ok(r.dropped.includes(dayName(day)) && r.kept.includes(dayName(day + DAY_MS)), JSON.stringify(r));
    assert.equal(await store.getMessage(appId, late.id), null);
    assert.equal(await store.purgeMessagesBefore(cutoff, 100), 1);
    assert.equal(await store.getMessage(appId, kept.id), null);
    assert.equal(await count(store, 'deliveries', kept.id), 0);
  });
});

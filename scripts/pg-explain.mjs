// Query plans of Switchboard's hot PostgreSQL queries on tables of a million rows.
// Not part of `npm test`: run `npm run build && node scripts/pg-explain.mjs [rows]` (default
// 1000000). It migrates a temporary schema of SWITCHBOARD_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test), fills it with generate_series, prints each query's
// EXPLAIN (ANALYZE, BUFFERS) as markdown, and drops the schema. docs/scaling.md quotes it.
// Messages and attempts span 30 days, in daily partitions (migrations 0034 and 0037);
// EXPLAIN_MIGRATIONS_UNTIL=33 (or 36) stops before those migrations, for the plans of the
// unpartitioned tables.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { ATTEMPTS, createAttemptPartition } from '../dist/src/storage/postgres/attempt-partitions.js';
import { dayPartitionName } from '../dist/src/storage/postgres/time-partitions.js';
import { MIGRATIONS_DIR, migrationFiles, runMigrations } from '../dist/src/storage/postgres/migrator.js';

const URL_ = process.env.SWITCHBOARD_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.argv[2] ?? 1_000_000);
const schema = `sbexplain_${Date.now().toString(36)}`;
const T0 = 1_700_000_000_000;
const admin = postgres(URL_, { max: 1, onnotice: () => {} });
await admin`CREATE SCHEMA ${admin(schema)}`;
const sql = postgres(URL_, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
const out = [];
const say = (s) => {
  out.push(s);
  process.stderr.write(s.split('\n')[0] + '\n');
};

const until = Number(process.env.EXPLAIN_MIGRATIONS_UNTIL ?? Infinity);
const dir = mkdtempSync(join(tmpdir(), 'sb-explain-')) + '/';
for (const f of migrationFiles().filter((m) => m.version <= until)) copyFileSync(join(MIGRATIONS_DIR, f.name), join(dir, f.name));
const DAY = 86_400_000;
const SPAN = 30 * DAY;
// Message i and its attempt are made at T0 + i * SPAN / ROWS: 30 days of them.
const attemptAt = (i) => T0 + Math.floor((i * SPAN) / ROWS);

try {
  await runMigrations(sql, dir);
  const [{ partitioned }] = await sql`SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'attempts'::regclass) AS partitioned`;
  if (partitioned) {
    // The migration's partitions are of today; these attempts are of T0's days.
    await sql`DROP TABLE attempts_history`;
    for (let day = Math.floor(T0 / DAY) * DAY; day < T0 + SPAN + DAY; day += DAY) await sql.begin((tx) => createAttemptPartition(tx, day, day + DAY));
  }
  const [{ messagesPartitioned }] = await sql`SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'messages'::regclass) AS "messagesPartitioned"`;
  // Message i is made at attemptAt(i); its id below is 'msg_' and i in hex: a day's messages
  // are the ids from the first i of the day to the next day's (as real ids, which begin with
  // their time, are from the day's boundary id).
  const firstOfDay = (ms) => Math.max(0, Math.ceil(((ms - T0) * ROWS) / SPAN));
  if (messagesPartitioned) {
    for (const r of await sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'messages'::regclass AND c.relname <> 'messages_default'`) {
      await sql.unsafe(`DROP TABLE "${r.name}"`);
    }
    for (let day = Math.floor(T0 / DAY) * DAY; day < T0 + SPAN + DAY; day += DAY) {
      const from = `'msg_${firstOfDay(day).toString(16).padStart(27, '0')}'`;
      const to = `'msg_${firstOfDay(day + DAY).toString(16).padStart(27, '0')}'`;
      await sql.unsafe(`CREATE TABLE "${dayPartitionName({ table: 'messages' }, day)}" PARTITION OF messages FOR VALUES FROM (${from}) TO (${to})`);
    }
  }
  const apps = 1000;
  const endpoints = 10_000;
  // Ids sort like real ones: a fixed prefix, then the creation order.
  const id = (prefix, expr) => `'${prefix}' || lpad(to_hex(${expr}), 27, '0')`;
  say(`# ${ROWS} messages, deliveries and attempts; ${endpoints} endpoints in ${apps} applications; attempts ${partitioned ? 'in daily partitions' : 'unpartitioned'}; messages ${messagesPartitioned ? 'in daily partitions' : 'unpartitioned'}\n`);
  const t = Date.now();
  await sql.unsafe(`INSERT INTO applications (id, name, created_at, updated_at)
    SELECT ${id('app_', 'i')}, 'app ' || i, ${T0}, ${T0} FROM generate_series(1, ${apps}) i`);
  await sql.unsafe(`INSERT INTO endpoints (id, app_id, url, secrets, created_at, updated_at)
    SELECT ${id('ep_', 'i')}, ${id('app_', '1 + i % ' + apps)}, 'https://example.com/' || i, '[]', ${T0}, ${T0} FROM generate_series(1, ${endpoints}) i`);
  // Since migration 0038 the delivery path's keys are led by the application id.
  const [{ appKeys }] = await sql`SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'endpoint_limits' AND column_name = 'app_id') AS "appKeys"`;
  await sql.unsafe(appKeys
    ? `INSERT INTO endpoint_limits (app_id, endpoint_id, tokens, updated_at) SELECT app_id, id, -1, 0 FROM endpoints`
    : `INSERT INTO endpoint_limits (endpoint_id, tokens, updated_at) SELECT id, -1, 0 FROM endpoints`);
  await sql.unsafe(`INSERT INTO messages (id, app_id, event_type, payload, created_at, seq)
    SELECT ${id('msg_', 'i')}, ${id('app_', '1 + i % ' + apps)}, 'order.created', '{"n":' || i || '}', ${T0} + (i::bigint * ${SPAN}) / ${ROWS}, i FROM generate_series(1, ${ROWS}) i`);
  await sql.unsafe(`UPDATE pull_sequence SET last = ${ROWS}`);
  if (messagesPartitioned) {
    // One message in ten was published with an event id.
    await sql.unsafe(`INSERT INTO message_event_ids (app_id, event_id, message_id)
      SELECT ${id('app_', '1 + i % ' + apps)}, 'evt-' || i, ${id('msg_', 'i')} FROM generate_series(1, ${ROWS}) i WHERE i % 10 = 0`);
  }
  // Most deliveries are done; the newest 2 % wait (a backlog on 20 endpoints), 1 % retry later, 0.5 % are leased.
  await sql.unsafe(`INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
    SELECT ${id('msg_', 'i')},
      CASE WHEN i > ${ROWS * 0.98} THEN ${id('ep_', '1 + i % 20')} ELSE ${id('ep_', '1 + i % ' + endpoints)} END,
      ${id('app_', '1 + i % ' + apps)},
      CASE WHEN i > ${ROWS * 0.98} THEN 1 WHEN i > ${ROWS * 0.97} THEN 1 WHEN i > ${ROWS * 0.965} THEN 3 ELSE 0 END,
      1,
      CASE WHEN i > ${ROWS * 0.98} THEN ${T0} + i WHEN i > ${ROWS * 0.97} THEN ${T0} + 10000000000 + i WHEN i > ${ROWS * 0.965} THEN ${T0} + 5000000000 ELSE NULL END,
      1, 0, ${T0} + i, ${T0} + i
    FROM generate_series(1, ${ROWS}) i`);
  await sql.unsafe(`INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
    SELECT ${id('atmpt_', 'i')}, ${id('msg_', 'i')}, ${id('ep_', '1 + i % ' + endpoints)}, ${id('app_', '1 + i % ' + apps)},
      'https://example.com/', 0, 200, 'ok', 12, 0, ${T0} + (i::bigint * ${SPAN}) / ${ROWS} FROM generate_series(1, ${ROWS}) i`);
  await sql.unsafe('ANALYZE');
  say(`Filled in ${((Date.now() - t) / 1000).toFixed(0)} s.\n`);

  const now = T0 + ROWS + 1000;
  const hot = `'${'ep_' + '1'.padStart(27, '0')}'`;
  const cold = `'${'ep_' + (5000).toString(16).padStart(27, '0')}'`;
  const app = `'${'app_' + (7).toString(16).padStart(27, '0')}'`;
  // The application of endpoint 5000's attempts (attempt i: endpoint 1 + i % endpoints, application 1 + i % apps).
  const coldApp = `'${'app_' + (1 + (4999 % apps)).toString(16).padStart(27, '0')}'`;
  // Attempt `mid` (of message `mid`, made mid-span) and its application.
  const mid = Math.floor(ROWS / 2);
  const midAttempt = `'${'atmpt_' + mid.toString(16).padStart(27, '0')}'`;
  const midMessage = `'${'msg_' + mid.toString(16).padStart(27, '0')}'`;
  const midApp = `'${'app_' + (1 + (mid % apps)).toString(16).padStart(27, '0')}'`;
  const dayLo = Math.floor(T0 / DAY) * DAY + 10 * DAY;
  const idAt = (ms) => `'atmpt_${Math.ceil(((ms - T0) * ROWS) / SPAN).toString(16).padStart(27, '0')}'`;
  // The application of the hot endpoint, as the statements read it from the endpoint's row.
  const hotApp = appKeys ? `app_id = (SELECT app_id FROM endpoints WHERE id = ${hot}) AND ` : '';
  const sweep = (after, select) => `WITH RECURSIVE open(endpoint_id) AS (
        (SELECT endpoint_id FROM deliveries WHERE status IN (1, 3) ORDER BY endpoint_id LIMIT 1)
        UNION ALL SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status IN (1, 3) AND d.endpoint_id > open.endpoint_id ORDER BY d.endpoint_id LIMIT 1)
        FROM open WHERE open.endpoint_id IS NOT NULL)
      SELECT ${select} FROM open
      CROSS JOIN LATERAL (SELECT d.next_attempt_at FROM deliveries d WHERE d.endpoint_id = open.endpoint_id AND d.status IN (1, 3)${after}
                          ORDER BY d.endpoint_id, d.next_attempt_at LIMIT 1) AS first
      WHERE open.endpoint_id IS NOT NULL`;
  const queries = [
    ['Claim: the endpoint\'s claim lock (advisory, per schema)', `SELECT pg_advisory_xact_lock(1, 2)`],
    ['Claim: the oldest due deliveries of one endpoint (backlogged), under SKIP LOCKED', `SELECT id FROM deliveries WHERE ${hotApp}endpoint_id = ${hot} AND status IN (1, 3) AND next_attempt_at <= ${now} ORDER BY endpoint_id, next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED`],
    ['Claim: live leases of one endpoint (the concurrency cap across nodes)', `SELECT count(*) FROM deliveries WHERE ${hotApp}endpoint_id = ${hot} AND status = 3 AND next_attempt_at > ${now}`],
    ['Sweep: endpoints with due deliveries (skip scan)', `${sweep('', 'open.endpoint_id')} AND first.next_attempt_at <= ${now} LIMIT 10000`],
    ['Sweep: the earliest due time after now (the same skip scan)', sweep(` AND d.next_attempt_at > ${now}`, 'MIN(first.next_attempt_at)')],
    ['API: a page of an application\'s messages, newest first', `SELECT * FROM messages t WHERE app_id = ${app} ORDER BY t.id DESC LIMIT 51`],
    ['API: a page of an endpoint\'s attempts, newest first', `SELECT * FROM attempts t WHERE app_id = ${coldApp} AND endpoint_id = ${cold} ORDER BY t.id DESC LIMIT 51`],
    ['API: a page of a message\'s attempts, newest first', `SELECT * FROM attempts t WHERE app_id = ${midApp} AND message_id = ${midMessage}${partitioned ? ` AND created_at >= ${attemptAt(mid) - DAY}` : ''} ORDER BY t.id DESC LIMIT 51`],
    [
      'API: one attempt of a message, by id' + (partitioned ? ' (with the created_at its id carries)' : ''),
      `SELECT * FROM attempts WHERE app_id = ${midApp} AND message_id = ${midMessage} AND id = ${midAttempt}${partitioned ? ` AND created_at = ${attemptAt(mid)}` : ''}`,
    ],
    ['Stats: an application\'s attempts of one day (an id range)', `SELECT (created_at - ${dayLo}::bigint) / 3600000 AS b, status, COUNT(*) FROM attempts
        WHERE id >= ${idAt(dayLo)} AND id < ${idAt(dayLo + DAY)} AND app_id = ${app} AND created_at >= ${dayLo} AND created_at < ${dayLo + DAY} GROUP BY b, status`],
    [
      'Retention: the attempts of 500 purged messages (rolled back)' + (partitioned ? ', within their deliveries\' time' : ''),
      `DELETE FROM attempts WHERE message_id = ANY(ARRAY(SELECT ${id('msg_', 'i')} FROM generate_series(1, 500) i))${partitioned ? ` AND created_at >= ${T0 + 1 - DAY} AND created_at <= ${T0 + 500 + DAY}` : ''}`,
      true,
    ],
    ['Attempt records: insert of 50 attempts (rolled back)', `INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
        SELECT 'atmpt_z' || lpad(i::text, 26, '0'), ${midMessage}, ${cold}, ${midApp}, 'https://example.com/', 0, 200, 'ok', 12, 0, ${T0 + SPAN - DAY} + i FROM generate_series(1, 50) i`, true],
    ...(partitioned
      ? [['Retention: before dropping a day\'s partition, do unfinished deliveries have attempts in it', `SELECT 1 AS x FROM deliveries d
        CROSS JOIN LATERAL (SELECT 1 FROM "${dayPartitionName(ATTEMPTS, dayLo)}" a WHERE ${appKeys ? 'a.app_id = d.app_id AND ' : ''}a.message_id = d.message_id LIMIT 1) a
        WHERE d.status IN (1, 3) LIMIT 1`]]
      : []),
    ['Attempt records: settling 50 deliveries under their leases (rolled back)', appKeys
      ? `UPDATE deliveries d SET status = 0, next_attempt_at = NULL, attempts = d.attempts + 1, updated_at = ${now}
        FROM (SELECT ${id('app_', '1 + i % ' + apps)} AS app, i::bigint AS id, 1::bigint AS token FROM generate_series(${ROWS - 60}, ${ROWS - 11}) i) u
        WHERE (d.app_id, d.id) IN (SELECT ${id('app_', '1 + i % ' + apps)}, i::bigint FROM generate_series(${ROWS - 60}, ${ROWS - 11}) i)
          AND d.app_id = u.app AND d.id = u.id AND d.lease_token = u.token`
      : `UPDATE deliveries d SET status = 0, next_attempt_at = NULL, attempts = d.attempts + 1, updated_at = ${now}
        FROM (SELECT i::bigint AS id, 1::bigint AS token FROM generate_series(${ROWS - 60}, ${ROWS - 11}) i) u
        WHERE d.id = ANY(ARRAY(SELECT i::bigint FROM generate_series(${ROWS - 60}, ${ROWS - 11}) i)) AND d.id = u.id AND d.lease_token = u.token`, true],
    ['Claim: the claimed deliveries joined to their messages (20 of one endpoint)', `SELECT d.id, m.* FROM deliveries d JOIN messages m ON ${messagesPartitioned ? 'm.app_id = d.app_id AND ' : ''}m.id = d.message_id
        WHERE ${appKeys ? 'd.app_id = (SELECT app_id FROM endpoints WHERE id = ' + hot + ') AND ' : ''}d.id IN (SELECT id FROM deliveries WHERE ${hotApp}endpoint_id = ${hot} AND status IN (1, 3) AND next_attempt_at <= ${now} ORDER BY endpoint_id, next_attempt_at LIMIT 20)`],
    ...(messagesPartitioned
      ? [
          ['API: a message by its event id', `SELECT m.* FROM message_event_ids e JOIN messages m ON m.app_id = e.app_id AND m.id = e.message_id WHERE e.app_id = ${midApp} AND e.event_id = 'evt-${mid}'`],
          ['Retention: before dropping a day of messages, does one have an unfinished delivery', `SELECT 1 AS x FROM deliveries WHERE status IN (1, 3)
            AND message_id >= 'msg_${firstOfDay(dayLo).toString(16).padStart(27, '0')}' AND message_id < 'msg_${firstOfDay(dayLo + DAY).toString(16).padStart(27, '0')}' LIMIT 1`],
          ['Retention: a batch of 5,000 of a dropped day\'s messages, then their deliveries (rolled back)', `WITH batch AS (
              SELECT app_id, id FROM "${dayPartitionName({ table: 'messages' }, dayLo)}" WHERE (app_id, id) > ('', '') ORDER BY app_id, id LIMIT 5000)
            DELETE FROM deliveries WHERE (app_id, message_id) IN (SELECT app_id, id FROM batch) AND status NOT IN (1, 3)`, true],
          ['Retention: the pull horizon of a dropped day (skip scan of its (app_id, seq) index; rolled back)', `WITH RECURSIVE a AS (
              (SELECT app_id FROM "${dayPartitionName({ table: 'messages' }, dayLo)}" ORDER BY app_id LIMIT 1)
              UNION ALL
              SELECT (SELECT app_id FROM "${dayPartitionName({ table: 'messages' }, dayLo)}" WHERE app_id > a.app_id ORDER BY app_id LIMIT 1) FROM a WHERE a.app_id IS NOT NULL),
            top AS (SELECT a.app_id, (SELECT max(seq) FROM "${dayPartitionName({ table: 'messages' }, dayLo)}" WHERE app_id = a.app_id) AS seq FROM a WHERE a.app_id IS NOT NULL)
            INSERT INTO pull_horizon (app_id, purged_seq) SELECT app_id, seq FROM top WHERE seq IS NOT NULL
            ON CONFLICT (app_id) DO UPDATE SET purged_seq = GREATEST(pull_horizon.purged_seq, EXCLUDED.purged_seq)`, true],
        ]
      : []),
    ['Pull: read an application\'s log after a position', `SELECT seq, id, payload FROM messages WHERE app_id = ${app} AND seq > ${Math.floor(ROWS / 2)} ORDER BY seq LIMIT 101`],
    ['Retention: the oldest messages with nothing left to deliver', `SELECT m.id FROM messages m
        LEFT JOIN LATERAL (SELECT 1 AS open FROM deliveries d WHERE ${appKeys ? 'd.app_id = m.app_id AND ' : ''}d.message_id = m.id AND d.status IN (1, 3) LIMIT 1) o ON TRUE
        WHERE ${
          messagesPartitioned
            ? `m.id < 'msg_${firstOfDay(dayLo).toString(16).padStart(27, '0')}' AND m.created_at < ${dayLo} AND o.open IS NULL
        ORDER BY m.app_id, m.id`
            : `m.id < '${'msg_' + Math.floor(ROWS / 2).toString(16).padStart(27, '0')}' AND m.created_at < ${attemptAt(ROWS / 2)} AND o.open IS NULL
        ORDER BY m.id`
        } LIMIT 500 FOR UPDATE OF m SKIP LOCKED`],
    ['Metrics: queue counts', `SELECT COUNT(*) FILTER (WHERE next_attempt_at <= ${now}) AS due, COUNT(*) FILTER (WHERE status = 1 AND next_attempt_at > ${now}) AS scheduled, MIN(next_attempt_at) FILTER (WHERE next_attempt_at <= ${now}) FROM deliveries WHERE status IN (1, 3)`],
  ];
  const rollback = new Error('rolled back');
  for (const [title, q, write] of queries) {
    let rows = [];
    await sql
      .begin(async (tx) => {
        rows = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${q}`);
        if (write) throw rollback;
      })
      .catch((e) => {
        if (e !== rollback) throw e;
      });
    say(`## ${title}\n\n\`\`\`\n${rows.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\`\n`);
  }
  const [size] = await sql`SELECT pg_size_pretty(COALESCE((SELECT SUM(pg_total_relation_size(relid)) FROM pg_partition_tree('messages')), pg_total_relation_size('messages'))) AS m, pg_size_pretty(pg_total_relation_size('deliveries')) AS d, pg_size_pretty(COALESCE((SELECT SUM(pg_total_relation_size(relid)) FROM pg_partition_tree('attempts')), pg_total_relation_size('attempts'))) AS a`;
  say(`Sizes with indexes: messages ${size.m}, deliveries ${size.d}, attempts ${size.a}.\n`);
  process.stdout.write(out.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await sql.end();
  await admin`DROP SCHEMA ${admin(schema)} CASCADE`;
  await admin.end();
}

/**
 * Migration 0038 on PostgreSQL: the keys of deliveries, attempts and endpoint limits led by
 * the application id. On tables already holding rows, every row stays, endpoint limits learn
 * their application (rows of endpoints gone are dropped), and the store claims, settles and
 * lists on the rebuilt keys.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus } from '../../src/domain/model.js';
import { runMigrations } from '../../src/storage/postgres/migrator.js';
import { T0, app, attemptRecord, endpoint, message } from '../helpers/fixtures.js';
import { beforeMigration } from '../helpers/pg-migrations.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

describe('postgres: migration 0038 (keys led by the application)', { skip: skipWithoutPostgres }, () => {
  const fixture = beforeMigration(38);

  it('keeps every row, rebuilds the keys led by app_id, and the store works on them', async () => {
    const store = fixture.schema.store(2);
    await runMigrations(store.sql, fixture.dir);
    const a = app();
    const ep = endpoint(a.id);
    const m1 = message(a.id, T0);
    const m2 = message(a.id, T0 + 1);
    // Rows as the version before wrote them.
    await store.sql`INSERT INTO applications (id, name, created_at, updated_at) VALUES (${a.id}, 'a', ${T0}, ${T0})`;
    await store.sql`INSERT INTO endpoints (id, app_id, url, secrets, created_at, updated_at) VALUES (${ep.id}, ${a.id}, ${ep.url}, '[]', ${T0}, ${T0})`;
    await store.sql`INSERT INTO endpoint_limits (endpoint_id, tokens, updated_at) VALUES (${ep.id}, -1, 0), ('ep_gone', -1, 0)`;
    for (const [i, m] of [m1, m2].entries()) {
      await store.sql`INSERT INTO messages (id, app_id, event_type, payload, created_at, seq) VALUES (${m.id}, ${a.id}, 'e.t', '{}', ${m.createdAt}, ${i + 1})`;
      await store.sql`INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
        VALUES (${m.id}, ${ep.id}, ${a.id}, ${i === 0 ? DeliveryStatus.Success : DeliveryStatus.Pending}, ${1 - i}, ${i === 0 ? null : T0}, 0, 0, ${T0}, ${T0})`;
    }
    const attemptId = newId('attempt', T0);
    await store.sql`INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
      VALUES (${attemptId}, ${m1.id}, ${ep.id}, ${a.id}, ${ep.url}, 0, 200, 'ok', 5, 0, ${T0})`;
    const deliveriesBefore = await store.sql`SELECT * FROM deliveries ORDER BY id`;

    assert.equal((await runMigrations(store.sql))[0], '0038_keys_led_by_application.sql');

    assert.deepEqual(await store.sql`SELECT * FROM deliveries ORDER BY id`, deliveriesBefore, 'every delivery kept as it was');
    assert.deepEqual(
      (await store.sql`SELECT app_id, endpoint_id FROM endpoint_limits`).map((r) => [r.app_id, r.endpoint_id]),
      [[a.id, ep.id]],
      'limits learn their application; those of endpoints gone are dropped',
    );
    // The unique keys (what a table distributed by application must contain): led by app_id.
    const keys = async (table: string) =>
      (await store.sql`SELECT pg_get_indexdef(i.indexrelid) AS d FROM pg_index i WHERE i.indrelid = ${table}::regclass AND i.indisunique`).map((r) =>
        (r.d as string).replace(/^.* USING btree /, ''),
      ).sort();
    assert.deepEqual(await keys('deliveries'), ['(app_id, id)', '(app_id, message_id, endpoint_id)']);
    assert.deepEqual(await keys('endpoint_limits'), ['(app_id, endpoint_id)']);
    assert.deepEqual(await keys('attempts'), ['(app_id, id, created_at)']);
    assert.deepEqual(await keys('messages'), ['(app_id, id)']);

    // The store on the rebuilt keys: the pending delivery is claimed and settled, the history read.
    assert.equal((await store.getAttempt(a.id, m1.id, attemptId))?.response, 'ok');
    const [c] = await store.claimDue(ep.id, 10, T0 + 10, T0 + 1000);
    assert.equal(c?.message.id, m2.id);
    await store.recordAttempts([attemptRecord(c, { status: DeliveryStatus.Success }, T0 + 11)]);
    assert.equal((await store.listAttemptsByEndpoint(a.id, ep.id, { limit: 10 })).data.length, 2);
    assert.deepEqual(await store.endpointStats(ep.id, null, null), { success: 2, pending: 0, fail: 0, sending: 0 });
  });
});

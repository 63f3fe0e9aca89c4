/**
 * The ingest storage contract (`store.ingest`): one suite every Store implementation must
 * pass. test/storage/ingest-store.test.ts runs it on SQLite and PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import type { IngestLog, SourceRecord, SourceToken } from '../../src/storage/contract/ingest.js';
import type { Store } from '../../src/storage/contract/store.js';

const T0 = 1_700_000_000_000;

export function source(over: Partial<SourceRecord> = {}): SourceRecord {
  return { id: newId('source', T0), uid: null, name: 'src', type: 'stripe', metadata: {}, config: '{"secret":"whsec_x"}', createdAt: T0, updatedAt: T0, ...over };
}

let tokens = 0;
export function token(over: Partial<SourceToken> = {}): SourceToken {
  tokens++;
  return { hash: `hash-${tokens}-${Math.random()}`, token: `token-${tokens}`, createdAt: T0, expiresAt: null, ...over };
}

export function log(sourceId: string, at: number, over: Partial<IngestLog> = {}): IngestLog {
  return { id: newId('ingestLog', at), sourceId, statusCode: 401, errorText: 'bad signature', headers: { 'content-type': 'application/json' }, payload: '{}', createdAt: at, ...over };
}

export function ingestStoreContract(name: string, factory: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`ingest store contract: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await factory());
      await store.migrate();
    });
    after(async () => dispose());

    it('creates, reads by id or uid, lists, updates and deletes sources', async () => {
      const s = source({ uid: 'my-stripe', metadata: { team: 'billing' } });
      await store.ingest.createSource(s, token(), null);
      assert.deepEqual(await store.ingest.getSource(s.id), s);
      assert.deepEqual(await store.ingest.getSource('my-stripe'), s);
      assert.equal(await store.ingest.getSource('nope'), null);
      await assert.rejects(store.ingest.createSource(source({ uid: 'my-stripe' }), token(), null), (e: unknown) => e instanceof AppError && e.status === 409);
      const changed = { ...s, name: 'renamed', config: '{"secret":"whsec_y"}', updatedAt: T0 + 1 };
      await store.ingest.updateSource(changed, 'keep');
      assert.deepEqual(await store.ingest.getSource(s.id), changed);
      const other = source();
      await store.ingest.createSource(other, token(), null);
      await assert.rejects(store.ingest.updateSource({ ...other, uid: 'my-stripe' }, 'keep'), (e: unknown) => e instanceof AppError && e.status === 409);
      const page = await store.ingest.listSources({ limit: 1 });
      assert.equal(page.data.length, 1);
      assert.equal(page.done, false);
      const next = await store.ingest.listSources({ limit: 100, iterator: page.iterator! });
      assert.ok(next.data.every((x) => x.id > page.data[0]!.id));
      await store.ingest.deleteSource(other.id);
      assert.equal(await store.ingest.getSource(other.id), null);
    });

    it('finds sources by token hash; rotated tokens work until their grace ends, at most three at a time', async () => {
      const s = source();
      const t1 = token();
      await store.ingest.createSource(s, t1, null);
      assert.equal((await store.ingest.sourceByToken(t1.hash, T0))?.id, s.id);
      assert.equal(await store.ingest.sourceByToken('unknown', T0), null);
      assert.equal((await store.ingest.currentToken(s.id))?.token, t1.token);
      const t2 = token();
      assert.equal(await store.ingest.rotateToken(s.id, t2, T0 + 1000, T0, 3), true);
      assert.equal((await store.ingest.currentToken(s.id))?.token, t2.token);
      assert.equal((await store.ingest.sourceByToken(t1.hash, T0 + 999))?.id, s.id, 'old token within its grace');
      assert.equal(await store.ingest.sourceByToken(t1.hash, T0 + 1000), null, 'old token after its grace');
      assert.equal(await store.ingest.rotateToken(s.id, token(), T0 + 1000, T0, 3), true);
      assert.equal(await store.ingest.rotateToken(s.id, token(), T0 + 1000, T0, 3), true);
      assert.equal(await store.ingest.rotateToken(s.id, token(), T0 + 1000, T0, 3), false, 'a fourth within the grace period');
      assert.equal(await store.ingest.rotateToken(s.id, token(), T0 + 5000, T0 + 1000, 3), true, 'allowed once the others expired');
      await store.ingest.deleteSource(s.id);
      assert.equal(await store.ingest.sourceByToken(t2.hash, T0), null);
    });

    it('keeps the newest logs per source, newest first', async () => {
      const s = source();
      await store.ingest.createSource(s, token(), null);
      const logs = Array.from({ length: 7 }, (_, i) => log(s.id, T0 + i, { errorText: `reason ${i}` }));
      await store.ingest.addLogs(logs.slice(0, 4), 5);
      await store.ingest.addLogs(logs.slice(4), 5);
      const page = await store.ingest.listLogs(s.id, { limit: 10 });
      assert.deepEqual(page.data.map((l) => l.errorText), ['reason 6', 'reason 5', 'reason 4', 'reason 3', 'reason 2']);
      assert.deepEqual(page.data[0], logs[6]);
      const first = await store.ingest.listLogs(s.id, { limit: 2 });
      const second = await store.ingest.listLogs(s.id, { limit: 2, iterator: first.iterator! });
      assert.deepEqual(second.data.map((l) => l.errorText), ['reason 4', 'reason 3']);
    });

    it('claims a due run once (compare-and-set), fences a lost lease, saves outcomes and items', async () => {
      const s = source({ type: 'poll' });
      await store.ingest.createSource(s, token(), T0);
      const st = await store.ingest.runState(s.id);
      assert.equal(st?.nextRunAt, T0);
      assert.equal(st?.tickAt, T0);
      assert.equal(st?.primed, false);
      assert.ok((await store.ingest.dueRuns(T0, 100)).some((d) => d.sourceId === s.id));
      assert.ok(!(await store.ingest.dueRuns(T0 - 1, 100)).some((d) => d.sourceId === s.id));
      const claimed = await store.ingest.claimRun(s.id, T0, T0 + 60_000);
      assert.ok(claimed);
      assert.equal(claimed.running, true);
      assert.equal(claimed.tickAt, T0, 'the tick is kept while running');
      assert.equal(await store.ingest.claimRun(s.id, T0, T0 + 60_000), null, 'a second claimer loses');
      assert.ok(!(await store.ingest.dueRuns(T0 + 59_999, 100)).some((d) => d.sourceId === s.id), 'leased');

      // The lease expires and another claimer retries the same tick; the first one's result is dropped.
      const retry = await store.ingest.claimRun(s.id, T0 + 60_000, T0 + 120_000);
      assert.ok(retry);
      assert.equal(retry.tickAt, T0);
      const result = { nextRunAt: T0 + 180_000, tickAt: T0 + 180_000, lastRunAt: T0 + 60_000, lastOutcome: 'primed' as const, lastError: null, failures: 0 };
      assert.equal(await store.ingest.finishRun(s.id, claimed.leaseToken, result), false);
      assert.equal(
        await store.ingest.finishRun(s.id, retry.leaseToken, { ...result, etag: '"e1"', lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT', primed: true, items: [{ key: 'a', hash: 'h1' }, { key: 'b', hash: 'h2' }], forgetBefore: T0 }),
        true,
      );
      const after = await store.ingest.runState(s.id);
      assert.deepEqual(
        { ...after, leaseToken: 0 },
        { sourceId: s.id, nextRunAt: T0 + 180_000, tickAt: T0 + 180_000, leaseToken: 0, running: false, lastRunAt: T0 + 60_000, lastOutcome: 'primed', lastError: null, failures: 0, etag: '"e1"', lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT', primed: true },
      );
      assert.deepEqual(await store.ingest.pollItems(s.id, ['a', 'b', 'c']), new Map([['a', 'h1'], ['b', 'h2']]));

      // A failed run keeps its tick and leaves validators and items as they were.
      const c2 = await store.ingest.claimRun(s.id, T0 + 180_000, T0 + 240_000);
      assert.ok(c2);
      await store.ingest.finishRun(s.id, c2.leaseToken, { nextRunAt: T0 + 300_000, tickAt: c2.tickAt, lastRunAt: T0 + 180_000, lastOutcome: 'error', lastError: 'HTTP 500', failures: 1 });
      const failed = await store.ingest.runState(s.id);
      assert.equal(failed?.tickAt, T0 + 180_000);
      assert.equal(failed?.etag, '"e1"');
      assert.equal(failed?.failures, 1);
      assert.equal(failed?.lastError, 'HTTP 500');

      // Items not seen since `forgetBefore` are forgotten.
      const c3 = await store.ingest.claimRun(s.id, T0 + 300_000, T0 + 360_000);
      await store.ingest.finishRun(s.id, c3!.leaseToken, { ...result, nextRunAt: T0 + 400_000, tickAt: T0 + 400_000, lastRunAt: T0 + 300_000, items: [{ key: 'a', hash: 'h3' }], forgetBefore: T0 + 300_000 });
      assert.deepEqual(await store.ingest.pollItems(s.id, ['a', 'b']), new Map([['a', 'h3']]));
      assert.ok(((await store.ingest.nextRunAt()) ?? Infinity) <= T0 + 400_000);
    });

    it('releases held leases at start-up; a config change resets the schedule and memory', async () => {
      const s = source({ type: 'cron' });
      await store.ingest.createSource(s, token(), T0 + 10);
      const c = await store.ingest.claimRun(s.id, T0 + 10, T0 + 100_000);
      assert.ok(c);
      assert.ok((await store.ingest.releaseRunLeases(T0 + 20)) >= 1);
      const released = await store.ingest.runState(s.id);
      assert.equal(released?.nextRunAt, T0 + 20);
      assert.equal(released?.tickAt, T0 + 10, 'the tick being run is kept');
      assert.equal(released?.running, false);
      await store.ingest.finishRun(s.id, released.leaseToken, { nextRunAt: T0 + 50, tickAt: T0 + 50, lastRunAt: T0 + 20, lastOutcome: 'emitted', lastError: null, failures: 0, items: [{ key: 'k', hash: 'h' }] });
      await store.ingest.updateSource({ ...s, config: '{"schedule":"0 * * * *"}' }, T0 + 3600_000);
      const reset = await store.ingest.runState(s.id);
      assert.equal(reset?.nextRunAt, T0 + 3600_000);
      assert.equal(reset?.primed, false);
      assert.equal((await store.ingest.pollItems(s.id, ['k'])).size, 0);
      await store.ingest.updateSource({ ...s, type: 'stripe' }, null);
      assert.equal(await store.ingest.runState(s.id), null);
    });
  });
}

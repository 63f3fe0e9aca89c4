/**
 * The pull storage contract (`Store.pull`): one suite every Store implementation must pass
 * (SQLite in pull-store.test.ts). It states what readers rely on: positions in commit
 * order that are never reused, filters, the retention horizon, time positions, consumers'
 * cursors and poller tokens.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { newId } from '../../src/domain/ids.js';
import type { Application, Message } from '../../src/domain/model.js';
import type { PollerToken, PollingEndpoint } from '../../src/storage/contract/pull.js';
import { useMigratedStore } from './stores.js';
import type { Store } from '../../src/storage/contract/store.js';

const T0 = 1_700_000_000_000;

function app(): Application {
  return { id: newId('application', T0), uid: null, name: 'pull', throttleRate: null, metadata: {}, headerStyle: 'standard', createdAt: T0, updatedAt: T0 };
}

function message(appId: string, at: number, over: Partial<Message> = {}): Message {
  return { id: newId('message', at), appId, eventType: 'a.b', eventId: null, channels: null, tags: null, payload: `{"at":${at}}`, createdAt: at, ...over };
}

function pollingEndpoint(appId: string, over: Partial<PollingEndpoint> = {}): PollingEndpoint {
  return { id: newId('pollingEndpoint', T0), appId, uid: null, description: '', eventTypes: null, channels: null, metadata: {}, createdAt: T0, updatedAt: T0, ...over };
}

function token(pe: PollingEndpoint, n: number, at = T0, expiresAt: number | null = null): PollerToken {
  return { id: newId('pollerToken', at), pollingEndpointId: pe.id, appId: pe.appId, tokenHash: `hash-${pe.id}-${n}`, token: `sb_poller_token_${n}`, createdAt: at, expiresAt };
}

/** Runs the contract against stores made by `make`. */
export function pullStoreContract(name: string, make: () => Promise<{ store: Store; dispose: () => Promise<void> }>): void {
  describe(`pull store contract: ${name}`, () => {
    let store: Store;
    useMigratedStore(make, (s) => (store = s));

    /** Publishes messages (without deliveries) one commit each; returns them. */
    async function publish(appId: string, n: number, at = T0, over: Partial<Message> = {}): Promise<Message[]> {
      const out: Message[] = [];
      for (let i = 0; i < n; i++) {
        const m = message(appId, at + i, over);
        await store.publish([{ message: m, deliveries: [] }]);
        out.push(m);
      }
      return out;
    }

    it('numbers messages in commit order and reads after a position, in order, with paging', async () => {
      const a = app();
      await store.createApplication(a);
      const start = await store.pull.head();
      const sent = await publish(a.id, 5);
      const head = await store.pull.head();
      assert.ok(head >= start + 5, 'head moves past every new message');
      const first = await store.pull.readLog(a.id, start, 3, {});
      assert.deepEqual(first.messages.map((m) => m.message.id), sent.slice(0, 3).map((m) => m.id));
      assert.equal(first.more, true);
      assert.equal(first.horizon, 0);
      const seqs = first.messages.map((m) => m.seq);
      assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'positions increase');
      const rest = await store.pull.readLog(a.id, seqs[2]!, 3, {});
      assert.deepEqual(rest.messages.map((m) => m.message.id), sent.slice(3).map((m) => m.id));
      assert.equal(rest.more, false);
      assert.deepEqual(rest.messages[0]!.message, sent[3], 'the message reads back as published');
      const none = await store.pull.readLog(a.id, head, 10, {});
      assert.deepEqual(none.messages, []);
    });

    it('filters by event type, channel and tag; an empty list matches nothing', async () => {
      const a = app();
      await store.createApplication(a);
      const start = await store.pull.head();
      const [x] = await publish(a.id, 1, T0, { eventType: 'x.one', channels: ['c1', 'c2'], tags: ['t1'] });
      const [y] = await publish(a.id, 1, T0, { eventType: 'y.two', channels: ['c3'] });
      const ids = async (f: Parameters<Store['pull']['readLog']>[3]) => (await store.pull.readLog(a.id, start, 10, f)).messages.map((m) => m.message.id);
      assert.deepEqual(await ids({ eventTypes: ['x.one'] }), [x!.id]);
      assert.deepEqual(await ids({ eventTypes: ['x.one', 'y.two'] }), [x!.id, y!.id]);
      assert.deepEqual(await ids({ channels: ['c2', 'c3'] }), [x!.id, y!.id]);
      assert.deepEqual(await ids({ channels: ['c3'], eventTypes: ['x.one'] }), []);
      assert.deepEqual(await ids({ tags: ['t1'] }), [x!.id]);
      assert.deepEqual(await ids({ eventTypes: [] }), []);
      assert.deepEqual(await ids({ eventTypes: null, channels: null }), [x!.id, y!.id]);
    });

    it('never reuses a position, and deletions raise the application horizon only', async () => {
      const a = app();
      const other = app();
      await store.createApplication(a);
      await store.createApplication(other);
      const start = await store.pull.head();
      await publish(a.id, 3, T0 - 10 * 86_400_000);
      const [otherMsg] = await publish(other.id, 1, T0);
      const kept = await publish(a.id, 2, T0);
      const before = await store.pull.readLog(a.id, start, 10, {});
      const oldSeqs = before.messages.slice(0, 3).map((m) => m.seq);
      assert.equal(await store.purgeMessagesBefore(T0 - 86_400_000, 100), 3);
      assert.equal(await store.pull.horizon(a.id), Math.max(...oldSeqs), 'the horizon is the highest deleted position');
      assert.equal(await store.pull.horizon(other.id), 0, "another application's horizon does not move");
      const r = await store.pull.readLog(a.id, start, 10, {});
      assert.deepEqual(r.messages.map((m) => m.message.id), kept.map((m) => m.id));
      assert.ok(r.horizon > start, 'a read from before the horizon learns of the deletion');
      const fromHorizon = await store.pull.readLog(a.id, r.horizon, 10, {});
      assert.equal(fromHorizon.horizon, r.horizon);
      assert.equal(fromHorizon.messages.length, 2);
      assert.equal((await store.pull.readLog(other.id, start, 10, {})).messages[0]!.message.id, otherMsg!.id);
      // The newest message of the database deleted: its number is not handed out again.
      const headBefore = await store.pull.head();
      const b = app();
      await store.createApplication(b);
      await publish(b.id, 1, T0 - 20 * 86_400_000);
      const newest = await store.pull.head();
      assert.ok(newest > headBefore);
      assert.equal(await store.purgeMessagesBefore(T0 - 15 * 86_400_000, 100), 1);
      await publish(b.id, 1, T0);
      const after = await store.pull.readLog(b.id, 0, 10, {});
      assert.equal(after.horizon, newest);
      assert.ok(after.messages[0]!.seq > newest, 'a position is never reused');
    });

    it('finds the position of a time', async () => {
      const a = app();
      await store.createApplication(a);
      const start = await store.pull.head();
      const t = T0 + 50_000;
      const [m1, m2, m3] = [...(await publish(a.id, 1, t)), ...(await publish(a.id, 1, t + 10)), ...(await publish(a.id, 1, t + 20))];
      const read = async (p: number) => (await store.pull.readLog(a.id, p, 10, {})).messages.map((m) => m.message.id);
      assert.deepEqual(await read(await store.pull.positionAt(a.id, t - 1)), [m1!.id, m2!.id, m3!.id]);
      assert.deepEqual(await read(await store.pull.positionAt(a.id, t)), [m2!.id, m3!.id], 'strictly after the time');
      assert.deepEqual(await read(await store.pull.positionAt(a.id, t + 15)), [m3!.id]);
      const end = await store.pull.positionAt(a.id, t + 10_000_000);
      assert.deepEqual(await read(end), []);
      assert.ok(end >= start + 3);
    });

    it('keeps polling endpoints: by id or uid, paged, unique uid, deleted with their consumers and tokens', async () => {
      const a = app();
      await store.createApplication(a);
      const pe = pollingEndpoint(a.id, { uid: 'pe-uid', eventTypes: ['a.b'], channels: ['c'], metadata: { k: 'v' } });
      await store.pull.createPollingEndpoint(pe, token(pe, 1));
      assert.deepEqual(await store.pull.getPollingEndpoint(a.id, pe.id), pe);
      assert.deepEqual(await store.pull.getPollingEndpoint(a.id, 'pe-uid'), pe);
      assert.equal(await store.pull.getPollingEndpoint(app().id, pe.id), null, 'scoped to its application');
      const dup = pollingEndpoint(a.id, { uid: 'pe-uid' });
      await assert.rejects(store.pull.createPollingEndpoint(dup, token(dup, 1)), (e: unknown) => e instanceof AppError && e.status === 409);
      const more = [pollingEndpoint(a.id), pollingEndpoint(a.id)];
      for (const p of more) await store.pull.createPollingEndpoint(p, token(p, 1));
      const page1 = await store.pull.listPollingEndpoints(a.id, { limit: 2 });
      assert.equal(page1.data.length, 2);
      assert.equal(page1.done, false);
      const page2 = await store.pull.listPollingEndpoints(a.id, { limit: 2, iterator: page1.iterator! });
      assert.deepEqual([...page1.data, ...page2.data].map((p) => p.id).sort(), [pe, ...more].map((p) => p.id).sort());
      await store.pull.updatePollingEndpoint({ ...pe, description: 'changed', eventTypes: null, updatedAt: T0 + 1 });
      assert.equal((await store.pull.getPollingEndpoint(a.id, pe.id))?.description, 'changed');
      assert.equal((await store.pull.getPollingEndpoint(a.id, pe.id))?.eventTypes, null);
      await store.pull.setCursor(pe.id, 'c1', 7, T0);
      await store.pull.deletePollingEndpoint(a.id, pe.id);
      assert.equal(await store.pull.getPollingEndpoint(a.id, pe.id), null);
      assert.equal(await store.pull.getCursor(pe.id, 'c1'), null);
      assert.equal(await store.pull.findToken(token(pe, 1).tokenHash), null);
      await store.deleteApplication(a.id);
      assert.equal(await store.pull.getPollingEndpoint(a.id, more[0]!.id), null, "an application's polling endpoints go with it");
    });

    it("commits consumers' cursors", async () => {
      const a = app();
      await store.createApplication(a);
      const pe = pollingEndpoint(a.id);
      await store.pull.createPollingEndpoint(pe, token(pe, 1));
      assert.equal(await store.pull.getCursor(pe.id, 'c'), null);
      await store.pull.setCursor(pe.id, 'c', 5, T0);
      await store.pull.setCursor(pe.id, 'd', 9, T0);
      await store.pull.setCursor(pe.id, 'c', 3, T0 + 1);
      assert.equal(await store.pull.getCursor(pe.id, 'c'), 3, 'a cursor may move back (seek)');
      assert.equal(await store.pull.getCursor(pe.id, 'd'), 9);
    });

    it('rotates poller tokens: the newest is current, older ones expire, expired ones go', async () => {
      const a = app();
      await store.createApplication(a);
      const pe = pollingEndpoint(a.id);
      const t1 = token(pe, 1, T0);
      await store.pull.createPollingEndpoint(pe, t1);
      assert.deepEqual(await store.pull.currentToken(pe.id), t1);
      assert.deepEqual(await store.pull.findToken(t1.tokenHash), t1);
      const t2 = token(pe, 2, T0 + 1000);
      await store.pull.rotateToken(t2, T0 + 301_000, T0 + 1000);
      assert.deepEqual(await store.pull.currentToken(pe.id), t2);
      assert.equal((await store.pull.findToken(t1.tokenHash))?.expiresAt, T0 + 301_000);
      const t3 = token(pe, 3, T0 + 2000, T0 + 900_000);
      await store.pull.rotateToken(t3, T0 + 2000, T0 + 2000);
      assert.equal(await store.pull.findToken(t1.tokenHash), null, 'expired tokens are dropped');
      assert.equal(await store.pull.findToken(t2.tokenHash), null);
      assert.deepEqual(await store.pull.currentToken(pe.id), t3);
      // Two rotations within one millisecond: the later one is current.
      const t4 = token(pe, 4, T0 + 3000);
      const t5 = token(pe, 5, T0 + 3000);
      await store.pull.rotateToken(t4, T0 + 400_000, T0 + 3000);
      await store.pull.rotateToken(t5, T0 + 400_000, T0 + 3000);
      assert.equal((await store.pull.currentToken(pe.id))?.id, t5.id);
    });

    it('shows every committed position to a reader that follows concurrent publishers', async () => {
      const a = app();
      await store.createApplication(a);
      let cursor = await store.pull.head();
      const published = new Set<string>();
      const seen: string[] = [];
      let publishing = true;
      const publishers = Array.from({ length: 8 }, async (_, p) => {
        for (let i = 0; i < 10; i++) {
          const batch = [message(a.id, T0 + i), message(a.id, T0 + i)];
          await store.publish(batch.map((m) => ({ message: m, deliveries: [] })));
          for (const m of batch) published.add(m.id);
          if (p === 0 && i % 3 === 0) await new Promise((r) => setImmediate(r));
        }
      });
      const reader = (async () => {
        for (let guard = 0; guard < 10_000; guard++) {
          const last = !publishing; // every publish committed before this read
          const r = await store.pull.readLog(a.id, cursor, 7, {});
          for (const m of r.messages) {
            seen.push(m.message.id);
            cursor = m.seq;
          }
          if (last && !r.more) break;
          await new Promise((r2) => setImmediate(r2));
        }
      })();
      await Promise.all(publishers);
      publishing = false;
      await reader;
      assert.equal(seen.length, published.size, 'nothing skipped, nothing twice');
      assert.deepEqual(new Set(seen), published);
    });
  });
}

/**
 * The cluster bridge with a store that hands it notices directly: another node's publish wakes
 * this node's claims, and its messages are read back only for applications a reader here
 * waits for (passed on as remote); for the others only the kept log answers are dropped.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { joinCluster } from '../../src/engine/cluster-bridge.js';
import { EventBus } from '../../src/engine/event-bus.js';
import type { BusEvent } from '../../src/engine/event-bus.js';
import type { Message } from '../../src/domain/model.js';
import type { ClusterNotice, ClusterStore } from '../../src/storage/contract/cluster.js';
import { eventually } from '../helpers/eventually.js';

function message(id: string, appId: string): Message {
  return { id, appId, eventType: 'a.b', eventId: null, channels: null, tags: null, payload: '{}', createdAt: 1 };
}

async function bridge(readers: Set<string>) {
  let deliver: (n: ClusterNotice) => void = () => undefined;
  const loaded: string[][] = [];
  const store: ClusterStore = {
    nodeId: 'here',
    claimDueCapped: () => Promise.reject(new Error('not used')),
    countEndedRequests: () => undefined,
    listen: (onNotice) => {
      deliver = onNotice;
      return Promise.resolve();
    },
    getMessages: (refs) => {
      loaded.push(refs.map((r) => r.id));
      return Promise.resolve(refs.map((r) => message(r.id, r.appId)));
    },
  };
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.on((e) => events.push(e));
  const backlogged: string[] = [];
  const outdated: string[] = [];
  await joinCluster({
    cluster: store,
    bus,
    logger: pino({ level: 'silent' }),
    sending: true,
    backlogged: (id) => backlogged.push(id),
    wake: () => undefined,
    invalidateEndpoints: () => undefined,
    invalidatePollers: () => undefined,
    readsApp: (appId) => readers.has(appId),
    committedElsewhere: (appId) => outdated.push(appId),
  });
  return { deliver: (n: ClusterNotice) => deliver(n), loaded, events, backlogged, outdated };
}

describe('cluster bridge', () => {
  it('reads back only the messages of applications a reader here waits for', async () => {
    const b = await bridge(new Set(['read']));
    b.deliver({ kind: 'published', appId: 'read', messageId: 'read:1', endpointIds: ['e1'] });
    b.deliver({ kind: 'published', appId: 'quiet', messageId: 'quiet:1', endpointIds: ['e2'] });
    b.deliver({ kind: 'published', appId: 'read', messageId: 'read:2', endpointIds: [] });
    await eventually(() => b.events.length === 1, 'the readers’ messages to be passed on');
    assert.deepEqual(b.loaded, [['read:1', 'read:2']], 'one load, for the application with readers');
    const [e] = b.events;
    assert.equal(e?.kind, 'messages.published');
    assert.equal(e.kind === 'messages.published' && e.remote, true, 'marked as published elsewhere');
    assert.deepEqual(e.kind === 'messages.published' ? e.messages.map((m) => m.id) : [], ['read:1', 'read:2']);
    assert.deepEqual(b.outdated, ['quiet'], 'the quiet application’s kept answers are dropped');
    assert.deepEqual(b.backlogged, ['e1', 'e2'], 'deliveries left for other nodes wake claims either way');
  });

  it('loads nothing when no reader waits here', async () => {
    const b = await bridge(new Set());
    for (let i = 0; i < 5; i++) b.deliver({ kind: 'published', appId: 'app', messageId: `app:${i}`, endpointIds: [] });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(b.loaded, []);
    assert.deepEqual(b.events, []);
    assert.equal(b.outdated.length, 5);
  });
});

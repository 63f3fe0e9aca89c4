/**
 * Joins a node to the others sharing its store: their notices wake this node's dispatcher
 * (new work for an endpoint), drop its cached endpoints and poller lookups (changed
 * elsewhere) and re-emit their publishes on the local EventBus, so long polls and streams
 * here answer a publish made on any node. A node's own notices never come back to it: its
 * local publishes are already on its bus.
 *
 * Another node's messages are loaded only for applications that a long poll or stream on
 * this node waits for; for the others, kept answers of their log are dropped, which needs no
 * query. So a node with no readers reads nothing back of what the others publish.
 */
import type { Logger } from 'pino';
import type { ClusterNotice, ClusterStore, MessageRef } from '../storage/contract/cluster.js';
import type { EventBus } from './event-bus.js';

/** What the bridge drives on this node. */
export interface ClusterBridgeDeps {
  cluster: ClusterStore;
  bus: EventBus;
  logger: Logger;
  /** This node sends deliveries (role `all` or `worker`). */
  sending: boolean;
  /** The store has due deliveries for this endpoint. */
  backlogged(endpointId: string): void;
  /** Something may be due: sweep the store. */
  wake(): void;
  /** Drops cached endpoints of an application (all when no id is given). */
  invalidateEndpoints(appId?: string): void;
  /** Drops kept poller token and polling endpoint lookups of an application (all when no id is given). */
  invalidatePollers(appId?: string): void;
  /** Whether a reader on this node waits for the application's messages. */
  readsApp(appId: string): boolean;
  /** Another node committed messages of an application no reader here waits for. */
  committedElsewhere(appId: string): void;
}

/** Starts listening for other nodes' notices; resolves once listening. */
export async function joinCluster(d: ClusterBridgeDeps): Promise<void> {
  // Published message ids wait here for one batched load, keeping their publish order.
  let pending: MessageRef[] = [];
  let loading: Promise<void> = Promise.resolve();

  const flush = (): void => {
    const ids = pending;
    pending = [];
    loading = loading
      .then(async () => {
        const messages = await d.cluster.getMessages(ids);
        if (messages.length > 0) d.bus.emit({ kind: 'messages.published', messages, remote: true });
      })
      .catch((e: unknown) => d.logger.warn({ err: e }, 'could not load messages published on another node'));
  };

  const onNotice = (n: ClusterNotice): void => {
    switch (n.kind) {
      case 'published':
        if (d.sending) {
          if (n.endpointIds === null) d.wake();
          else for (const id of n.endpointIds) d.backlogged(id);
        }
        if (!d.readsApp(n.appId)) {
          d.committedElsewhere(n.appId);
          break;
        }
        if (pending.length === 0) setImmediate(flush);
        pending.push({ appId: n.appId, id: n.messageId });
        break;
      case 'due':
        if (d.sending) for (const id of n.endpointIds) d.backlogged(id);
        break;
      case 'endpoints-changed':
        d.invalidateEndpoints(n.appId);
        break;
      case 'pollers-changed':
        d.invalidatePollers(n.appId);
        break;
    }
  };

  // After a reconnection notices may have been missed: catch up as after a restart.
  const onReconnected = (): void => {
    d.logger.info('listening for other nodes again; sweeping for due work');
    d.invalidateEndpoints();
    d.invalidatePollers();
    if (d.sending) d.wake();
  };

  await d.cluster.listen(onNotice, onReconnected);
}

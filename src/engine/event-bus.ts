/**
 * In-process notifications of what happened, for listeners that wait on it (long polls,
 * SSE streams, metrics). A multi-node store bridges its own notifications into this bus,
 * so listeners never care which node published.
 */
import type { Message } from '../domain/model.js';

/**
 * Messages that were committed together (one group commit, or one batch of another node's
 * publishes), in commit order: one event per batch, so the work of waking readers is paid
 * once per commit, not once per message.
 */
export type BusEvent =
  | {
      kind: 'messages.published';
      messages: readonly Message[];
      /** Published on another node sharing the store (loaded for this node's readers only). */
      remote?: true;
    }
  /** Events were appended to a stream's log (one notice per append call): sink deliveries wake on it. */
  | { kind: 'stream.events.appended'; streamId: string; lastSeq: number };

export type BusListener = (e: BusEvent) => void;

export class EventBus {
  private readonly listeners = new Set<BusListener>();

  /** Subscribes; returns the function that unsubscribes. */
  on(fn: BusListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: BusEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch {
        // A failing listener must not affect the publisher or other listeners.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

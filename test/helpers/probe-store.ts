/** A store with only what the storage health touches: the parts it listens to for faults, the probe's write, and the queue it fails while the database is unreachable. */
import type { Store } from '../../src/storage/contract/store.js';

export function probeStore(putIdempotent: () => Promise<void>, failWaiting: (why: string) => number = () => 0): Store {
  return { ingest: {}, pull: {}, auth: {}, operationalWebhooks: {}, putIdempotent, failWaiting } as unknown as Store;
}

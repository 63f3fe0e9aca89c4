/** A store with only what the storage health touches: the parts it listens to for faults, and the probe's write. */
import type { Store } from '../../src/storage/contract/store.js';

export function probeStore(putIdempotent: () => Promise<void>): Store {
  return { ingest: {}, pull: {}, auth: {}, operationalWebhooks: {}, putIdempotent } as unknown as Store;
}

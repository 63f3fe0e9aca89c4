/**
 * Requests that need the database are answered 503 `storage_unavailable` at once while it has
 * been unreachable for `SWITCHBOARD_STORAGE_WAIT_MS` (the storage health decides), instead of
 * waiting in the connection pool's queue for as long as the outage lasts: clients hear at once
 * that they should retry, and the server holds no growing pile of requests. Health checks and
 * metrics are not gated, nor is anything that never reads the database (the dashboard's files,
 * the API documents).
 */
import type { FastifyInstance } from 'fastify';
import type { StorageRefusal } from '../operations/storage-health.js';
import { STORAGE_FAULT_ANSWERS } from '../storage/contract/storage-faults.js';
import { sendStorageFault } from './errors.js';

/** Whether requests to the route `url` (its pattern) read or write the database. */
function needsDatabase(url: string): boolean {
  if (url.startsWith('/api/v1/health')) return false;
  return url.startsWith('/api/') || url.startsWith('/ingest/');
}

export function registerStorageGate(app: FastifyInstance, gate: { refusal(): StorageRefusal | null }): void {
  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    if (url === undefined || !needsDatabase(url)) return;
    const refused = gate.refusal();
    if (!refused) return;
    const seconds = Math.max(1, Math.round(refused.unreachableMs / 1000));
    const detail = `${STORAGE_FAULT_ANSWERS.unavailable.why} (${refused.code}), for ${seconds} s now: the request was refused without waiting for it and nothing of it was stored; retry later`;
    // Providers retry ingest deliveries on their own schedule: no Retry-After there, as for any other storage fault.
    return sendStorageFault(reply, { kind: 'unavailable', code: refused.code, message: detail }, { detail, retryAfter: !url.startsWith('/ingest/in/') });
  });
}

/**
 * Health and readiness. Health is 204 when healthy; 503 with a JSON body otherwise:
 * `unavailable` when the database does not answer, `storage_degraded` (with the reason) while
 * it answers but refuses writes (disk full, read-only, I/O errors). Readiness ignores the
 * storage state: reads, polls and streams still work.
 */
import type { FastifyReply } from 'fastify';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { sendError } from '../../errors.js';
import { STORAGE_FAULT_ANSWERS } from '../../../storage/contract/storage-faults.js';
import * as S from '../../schemas.js';

/** The 503 body: an error, with the storage state when writes are refused. */
const unhealthyOut = {
  description: '`unavailable`: the database does not answer (or, for readiness, the node is starting or stopping). `storage_degraded`: it answers but refuses writes; `storage` says why and since when.',
  type: 'object',
  required: ['code', 'detail'],
  properties: {
    code: { type: 'string', enum: ['unavailable', 'storage_degraded'] },
    detail: { type: 'string' },
    storage: {
      type: 'object',
      required: ['reason', 'code', 'since'],
      properties: {
        reason: { type: 'string', enum: ['full', 'read_only', 'io_error', 'unavailable', 'busy'], description: 'full: no space left; read_only: the database or its directory is read-only; io_error: the storage fails; unavailable: the database is unreachable or out of resources; busy: another process or session holds a lock writes need' },
        code: { type: 'string', description: 'The database\'s code, e.g. `SQLITE_FULL` or SQLSTATE `53100`' },
        since: S.S.dateTime,
      },
    },
  },
} as const;

export const healthRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const check = async (): Promise<boolean> => {
      try {
        await deps.store.ping();
        return true;
      } catch {
        return false;
      }
    };
    /** Answers 503 `storage_degraded` while the database refuses writes; null when it stores them. */
    const degraded = (reply: FastifyReply): FastifyReply | null => {
      const s = deps.storageHealth?.status();
      if (!s?.degraded) return null;
      const detail = `${STORAGE_FAULT_ANSWERS[s.reason].why} (${s.code}): writes are refused until it recovers`;
      return reply.code(503).send({ code: 'storage_degraded', detail, storage: { reason: s.reason, code: s.code, since: new Date(s.since).toISOString() } });
    };
    app.get(
      '/api/v1/health',
      { schema: { tags: ['health'], summary: 'Health: 204 when the database answers and stores writes', response: { 204: S.noContent, 503: unhealthyOut } } },
      async (_req, reply) => {
        if (!(await check())) return sendError(reply, 'unavailable', 'database is not answering');
        return degraded(reply) ?? reply.code(204).send();
      },
    );
    app.get(
      '/api/v1/health/ready',
      { schema: { tags: ['health'], summary: 'Readiness: 204 when this node takes work', response: { 204: S.noContent } } },
      async (_req, reply) => {
        // A node whose database refuses writes still serves reads, polls and streams: it stays ready.
        if (!deps.ready() || !(await check())) return sendError(reply, 'unavailable', 'not ready');
        return reply.code(204).send();
      },
    );
  };

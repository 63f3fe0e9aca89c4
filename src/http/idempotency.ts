/**
 * `idempotency-key` on POST: the same key from the same credential returns the same
 * response for 24 hours. A request arriving while the first is still running waits for
 * its response instead of running twice.
 *
 * A response is stored before it is sent (those of concurrent requests in one transaction),
 * except where the route's own write stores it in the same transaction (`storedWithWrite`: a
 * publish): a retry after an answer lost on the way (a client timeout, a node that died after
 * its commit, a commit whose outcome was in doubt) then replays it instead of storing the
 * message twice.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../domain/clock.js';
import type { IdempotentResponse, Store } from '../storage/contract/store.js';
import { GroupCommit } from '../engine/group-commit.js';
import { sendError } from './errors.js';

/** How long a stored response is replayed. */
const TTL_MS = 24 * 3600_000;
const MAX_KEY_LENGTH = 256;

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string | null;
    /** The response the route's own write stored under the key (`storedWithWrite`), if any. */
    idempotencyStored: IdempotentResponse | null;
  }
}

/**
 * For a route whose write stores its response under the request's idempotency key in the same
 * transaction: what to give that write (undefined without a key). `respond` makes the response
 * from what was written; the route sends `req.idempotencyStored.body` once the write succeeded.
 */
export function storedWithWrite<T>(
  req: FastifyRequest,
  nowMs: number,
  respond: (written: T) => IdempotentResponse,
): { key: string; expiresAt: number; respond: (written: T) => IdempotentResponse } | undefined {
  const key = req.idempotencyKey;
  if (!key) return undefined;
  return { key, expiresAt: nowMs + TTL_MS, respond: (written) => (req.idempotencyStored = respond(written)) };
}

/** Sends a stored answer again. */
function replay(reply: FastifyReply, stored: IdempotentResponse): FastifyReply {
  return reply.code(stored.status).header('content-type', stored.contentType).header('idempotent-replayed', 'true').send(stored.body);
}

export class Idempotency {
  private readonly inflight = new Map<string, Promise<IdempotentResponse | null>>();
  private readonly resolvers = new Map<string, (r: IdempotentResponse | null) => void>();
  private readonly writes: GroupCommit<{ key: string; res: IdempotentResponse }, undefined>;
  private readonly reads: GroupCommit<string, IdempotentResponse | null>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    // Keys arriving while a read runs share the next one (on PostgreSQL, one query for them all);
    // a key that arrives while none runs is read at once.
    this.reads = new GroupCommit((keys) => this.store.getIdempotentBatch(keys, this.clock.now()), { startAtOnce: true });
    // Answers sent meanwhile share one transaction; expired ones go in the retention run.
    this.writes = new GroupCommit(async (items) => {
      const expiresAt = this.clock.now() + TTL_MS;
      await this.store.putIdempotentBatch(items.map((i) => ({ key: i.key, response: i.res, expiresAt })));
      return items.map(() => undefined);
    });
  }

  register(app: FastifyInstance): void {
    app.decorateRequest('idempotencyKey', null);
    app.decorateRequest('idempotencyStored', null);

    app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      const raw = req.headers['idempotency-key'];
      if (req.method !== 'POST' || typeof raw !== 'string' || raw.length === 0 || !req.principal) return;
      if (raw.length > MAX_KEY_LENGTH) {
        return sendError(reply, 'validation', [{ loc: ['header', 'idempotency-key'], msg: `at most ${MAX_KEY_LENGTH} characters`, type: 'value_error' }]);
      }
      const key = createHash('sha256').update(`${req.principal.credentialId}\n${req.method}\n${req.url}\n${raw}`).digest('base64url');
      const running = this.inflight.get(key);
      if (running) {
        const answer = await running;
        // Without an answer the first one failed: this one runs, without a key.
        return answer ? replay(reply, answer) : undefined;
      }
      // Claimed before the key is read: a request with the same key that arrives meanwhile
      // waits for this one instead of reading too, finding nothing and running a second time.
      this.inflight.set(key, new Promise((resolve) => this.resolvers.set(key, resolve)));
      let stored: IdempotentResponse | null;
      try {
        stored = await this.reads.submit(key);
      } catch (e: unknown) {
        this.settle(key, null);
        throw e;
      }
      if (stored) {
        this.settle(key, stored);
        return replay(reply, stored);
      }
      req.idempotencyKey = key;
    });

    app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const key = req.idempotencyKey;
      if (!key) return payload;
      req.idempotencyKey = null;
      const stored = req.idempotencyStored;
      if (stored && reply.statusCode === stored.status && payload === stored.body) {
        // Stored with the route's write: committed before this answer was sent.
        this.settle(key, stored);
        return payload;
      }
      let res: IdempotentResponse | null = null;
      if (reply.statusCode < 500 && typeof payload === 'string') {
        res = { status: reply.statusCode, body: payload, contentType: String(reply.getHeader('content-type') ?? 'application/json') };
        try {
          await this.writes.submit({ key, res });
        } catch (e: unknown) {
          req.log.warn({ err: e }, 'could not store idempotent response');
        }
      }
      this.settle(key, res);
      return payload;
    });

    // A request that ends without a response (client gone) must not block later ones.
    app.addHook('onResponse', async (req: FastifyRequest) => {
      if (req.idempotencyKey) this.settle(req.idempotencyKey, null);
    });
  }

  private settle(key: string, res: IdempotentResponse | null): void {
    this.resolvers.get(key)?.(res);
    this.resolvers.delete(key);
    this.inflight.delete(key);
  }
}

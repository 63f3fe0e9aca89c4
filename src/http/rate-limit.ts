/**
 * Request rate limits: token buckets per credential and per application, and separate ones
 * for health checks and ingest (per client address or source) and other unauthenticated
 * routes (per client address). Answers carry `RateLimit-Policy` and `RateLimit`
 * (draft-ietf-httpapi-ratelimit-headers structured fields); a refused request gets 429 with
 * `Retry-After`. Time comes from the injected clock.
 *
 * A long poll that the server holds waiting for messages gets its tokens back
 * (`giveBackRateLimit`): how often a caught-up long poller comes back is set by the server's
 * wake-ups (at most one per reader every 20 ms), not by the client, and an SSE stream
 * receiving the same messages is one request. A poll answered at once is counted.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../domain/clock.js';
import { TokenBucket } from '../domain/token-bucket.js';
import type { ApplicationService } from '../catalog/applications.js';
import { sendError } from './errors.js';
import { routeAccess } from './auth.js';
import type { RateLimitSettings, RateSpec } from '../config-security.js';

export type { RateLimitSettings, RateSpec } from '../config-security.js';
export { parseRateSpec } from '../config-security.js';

interface Check {
  policy: string;
  spec: RateSpec;
  bucket: TokenBucket;
}

/** What gives an admitted request's tokens back, until it is used. */
const charged = new WeakMap<FastifyRequest, () => void>();

/** Gives back the tokens the request took from its credential and application buckets (once). */
export function giveBackRateLimit(req: FastifyRequest): void {
  const giveBack = charged.get(req);
  if (!giveBack) return;
  charged.delete(req);
  giveBack();
}

/** Most buckets kept per kind; the oldest are dropped first (a dropped bucket starts full again). */
const MAX_BUCKETS = 50_000;

class BucketMap {
  private readonly map = new Map<string, TokenBucket>();

  get(key: string, spec: RateSpec, now: number): TokenBucket {
    let b = this.map.get(key);
    if (!b) {
      if (this.map.size >= MAX_BUCKETS) this.map.delete(this.map.keys().next().value!);
      b = new TokenBucket(spec.rate, spec.burst, now);
      this.map.set(key, b);
    }
    return b;
  }
}

export class RateLimiter {
  private readonly buckets = new BucketMap();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly clock: Clock,
    private readonly applications: ApplicationService,
  ) {}

  /** Installs the hooks; call after `Auth.register` so credentials and applications are checked first. */
  register(app: FastifyInstance): void {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!req.routeOptions.url || routeAccess(req) !== 'public') return;
      const url = req.routeOptions.url;
      const s = this.settings;
      let check: Check | null = null;
      const now = this.clock.now();
      if (url.startsWith('/api/v1/health')) {
        if (s.health) check = { policy: 'health', spec: s.health, bucket: this.buckets.get('h:' + req.ip, s.health, now) };
      } else if (url.startsWith('/ingest/')) {
        const key = 'i:' + url + '\n' + JSON.stringify(req.params ?? {});
        if (s.ingest) check = { policy: 'ingest', spec: s.ingest, bucket: this.buckets.get(key, s.ingest, now) };
      } else if (s.public) {
        check = { policy: 'public', spec: s.public, bucket: this.buckets.get('p:' + req.ip, s.public, now) };
      }
      if (check) return this.apply([check], reply, now);
    });

    // preValidation, after the one of Auth: an application bucket is only charged for
    // callers allowed to act on that application, so no one can exhaust another's quota.
    app.addHook('preValidation', async (req: FastifyRequest, reply: FastifyReply) => {
      const p = req.principal;
      if (!p) return;
      const s = this.settings;
      const now = this.clock.now();
      const checks: Check[] = [];
      if (s.token && !p.credentialId.startsWith('admin:')) {
        checks.push({ policy: 'token', spec: s.token, bucket: this.buckets.get('t:' + p.credentialId, s.token, now) });
      }
      const appParam = (req.params as Record<string, string | undefined> | undefined)?.app_id;
      if (s.app && appParam !== undefined) {
        const a = await this.applications.find(appParam);
        if (a) checks.push({ policy: 'app', spec: s.app, bucket: this.buckets.get('a:' + a.id, s.app, now) });
      }
      if (checks.length === 0) return;
      const refused = this.apply(checks, reply, now);
      // Only a long poll (a read) can be held; other requests never give tokens back, so the
      // publish path keeps no give-back for each request.
      if (!refused && (req.method === 'GET' || req.method === 'HEAD')) charged.set(req, () => checks.forEach((c) => c.bucket.giveBack(1, this.clock.now())));
      return refused;
    });
  }

  /** Takes one token from every bucket, or refuses with 429 if any is empty; sets the headers. */
  private apply(checks: Check[], reply: FastifyReply, now: number): FastifyReply | undefined {
    const empty = checks.filter((c) => c.bucket.available(now) < 1);
    if (empty.length === 0) for (const c of checks) c.bucket.take(1, now);
    reply.header('ratelimit-policy', checks.map((c) => `"${c.policy}";q=${c.spec.burst};w=${Math.max(1, Math.ceil(c.spec.burst / c.spec.rate))}`).join(', '));
    reply.header(
      'ratelimit',
      checks
        .map((c) => {
          const left = c.bucket.available(now);
          return `"${c.policy}";r=${left};t=${Math.ceil((c.spec.burst - left) / c.spec.rate)}`;
        })
        .join(', '),
    );
    if (empty.length === 0) return undefined;
    const waitMs = Math.max(...empty.map((c) => c.bucket.msUntilToken(now)));
    reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
    return sendError(reply, 'rate_limited', `rate limit exceeded (${empty.map((c) => c.policy).join(', ')}); retry after the time in Retry-After`);
  }
}

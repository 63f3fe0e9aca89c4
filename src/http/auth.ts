/**
 * Authentication (who is calling) and authorisation (may they call this route on this
 * application). Credentials are resolved by pluggable resolvers; routes declare the access
 * they need in `config.access`, or get a default from their method and path.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApplicationService } from '../catalog/applications.js';
import { sendError } from './errors.js';
import type { AuthThrottle, ThrottleScope } from '../access/auth-throttle.js';

import type { Access, AppScope, Principal, TokenResolver } from '../access/principal.js';

export type { Access, AppScope, Principal, TokenResolver } from '../access/principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

// One-shot: about a third cheaper per request than a Hash object.
const sha256 = (s: string): Buffer => hash('sha256', s, 'buffer');

/** Why an authentication failed, as counted by metrics. */
export type AuthFailureReason = 'missing_token' | 'invalid_token' | 'invalid_client_secret';

/** Throttling of failed authentications, and who to tell about failures and refusals. */
export interface AuthGuard {
  throttle: AuthThrottle;
  onFailure?: (reason: AuthFailureReason) => void;
  onThrottled?: (scope: ThrottleScope) => void;
}

/** The access a route needs when it does not say: reads of an app need read, publishing needs publish. */
export function defaultAccess(method: string, routeUrl: string): Access {
  if (routeUrl.startsWith('/api/v1/health')) return 'public';
  if (routeUrl.startsWith('/ingest/api/')) return 'admin';
  if (!routeUrl.startsWith('/api/')) return 'public';
  if (routeUrl.startsWith('/api/v1/app/:app_id')) {
    if (method === 'GET' || method === 'HEAD') return 'app:read';
    if (method === 'POST' && routeUrl === '/api/v1/app/:app_id/msg') return 'app:publish';
    return 'app:write';
  }
  if (routeUrl.startsWith('/api/v1/event-type') && (method === 'GET' || method === 'HEAD')) return 'any';
  return 'admin';
}

/** The access a request's route needs: declared, or the default for its method and path. */
export function routeAccess(req: FastifyRequest): Access {
  return req.routeOptions.config.access ?? defaultAccess(req.method, req.routeOptions.url ?? '');
}

/** One registered route and the access it needs. */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
  /** The route's JSON schemas (body, querystring, params), as declared. */
  schema: { body?: unknown; querystring?: unknown; params?: unknown } | undefined;
}

export class Auth {
  private readonly resolvers: TokenResolver[] = [];
  private readonly table: RouteEntry[] = [];
  private readonly adminHash: Buffer;
  private readonly adminId: string;

  constructor(
    adminToken: string,
    private readonly applications: ApplicationService,
    private readonly guard: AuthGuard | null = null,
  ) {
    this.adminHash = sha256(adminToken);
    this.adminId = 'admin:' + this.adminHash.subarray(0, 6).toString('hex');
  }

  /** Adds a way to recognise tokens (API keys, JWTs, portal or poller tokens). */
  addResolver(r: TokenResolver): void {
    this.resolvers.push(r);
  }

  async authenticate(token: string): Promise<Principal | null> {
    // Digests of equal length compared in constant time: the admin token's length and
    // characters cannot be learned from response times.
    if (timingSafeEqual(sha256(token), this.adminHash)) return { kind: 'admin', credentialId: this.adminId };
    for (const r of this.resolvers) {
      const p = await r(token);
      if (p) return p;
    }
    return null;
  }

  /**
   * For the OAuth token endpoint, which checks client secrets itself: answers 429 while the
   * caller's address or the client is blocked by failed attempts; undefined when it may try.
   */
  refuseThrottledClient(req: FastifyRequest, reply: FastifyReply, clientId: string): FastifyReply | undefined {
    const verdict = this.guard?.throttle.checkClient(req.ip, clientId);
    return verdict?.kind === 'blocked' ? this.refuseThrottled(reply, verdict) : undefined;
  }

  /** Counts a wrong OAuth client secret as a failed authentication. */
  clientSecretFailed(req: FastifyRequest, clientId: string): void {
    this.guard?.throttle.failedClient(req.ip, clientId);
    this.guard?.onFailure?.('invalid_client_secret');
  }

  private refuseThrottled(reply: FastifyReply, verdict: { scope: ThrottleScope; retryAfterMs: number }): FastifyReply {
    this.guard?.onThrottled?.(verdict.scope);
    reply.header('retry-after', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
    return sendError(reply, 'rate_limited', 'too many failed authentications; retry after the time in Retry-After');
  }

  /** Every route registered after `register`, with the access it needs (for audits and tests). */
  routes(): readonly RouteEntry[] {
    return this.table;
  }

  /** Installs the hooks: authenticate on request, authorise once the route and params are known. */
  register(app: FastifyInstance): void {
    app.decorateRequest('principal', null);

    app.addHook('onRoute', (r) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      const declared = r.config?.access;
      for (const m of methods) this.table.push({ method: m, url: r.url, access: declared ?? defaultAccess(m, r.url), schema: r.schema });
    });

    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const access = routeAccess(req);
      if (access === 'public') return;
      const header = req.headers.authorization;
      if (!header || !/^bearer /i.test(header)) {
        this.guard?.onFailure?.('missing_token');
        return sendError(reply, 'unauthorized', 'missing bearer token: send Authorization: Bearer <token>');
      }
      const token = header.slice(7).trim();
      // Refused before the token is looked at: a blocked guesser learns nothing, whatever it sends.
      const verdict = this.guard?.throttle.check(req.ip, token);
      if (verdict?.kind === 'blocked') return this.refuseThrottled(reply, verdict);
      const principal = await this.authenticate(token);
      if (!principal) {
        this.guard?.throttle.failed(req.ip, token);
        this.guard?.onFailure?.('invalid_token');
        return sendError(reply, 'unauthorized', 'invalid or expired token');
      }
      req.principal = principal;
    });

    // preValidation: params are parsed but the body is not yet validated, so a caller
    // learns nothing about another application's resources from validation errors.
    app.addHook('preValidation', async (req: FastifyRequest, reply: FastifyReply) => {
      const access = routeAccess(req);
      const p = req.principal;
      if (access === 'public' || !p || p.kind === 'admin') return;
      if (p.kind === 'stream') {
        // A stream portal token may use routes open to any caller (its logout); a stream poller token only reads its sink.
        if (access === 'any' && p.sinkId === null) return;
        if (access === 'stream:poll' || (access === 'stream' && p.sinkId === null)) return; // the route checks it is the token's stream and sink
        return sendError(reply, 'forbidden', p.sinkId === null ? 'a stream portal token can only use its stream' : 'a stream poller token can only read its sink');
      }
      if (access === 'stream' || access === 'stream:poll') return sendError(reply, 'forbidden', 'this route needs an organisation admin token');
      // A poller token reads its polling endpoint and nothing else, not even routes open to any caller.
      if (access === 'any' && p.kind !== 'poller') return;
      const params = req.params as Record<string, string | undefined>;
      const appParam = params.app_id;
      if (appParam === undefined) {
        return sendError(reply, 'forbidden', access === 'admin' ? 'this route needs an organisation admin token' : 'this token cannot use this route');
      }
      // A scoped token never learns whether another application exists: 404, as for a missing one.
      const app = await this.applications.find(appParam);
      if (!app || app.id !== p.appId) return sendError(reply, 'not_found', 'Application not found');
      // The handler looks the application up again: by the id just checked, never by a uid
      // that could meanwhile name another application.
      params.app_id = app.id;
      if (access === 'admin') return sendError(reply, 'forbidden', 'this route needs an organisation admin token');
      if (p.kind === 'poller') {
        if (access !== 'poller') return sendError(reply, 'forbidden', 'a poller token can only read its polling endpoint');
        return;
      }
      if (access === 'poller') {
        if (p.scopes.has('read')) return;
        return sendError(reply, 'forbidden', 'this token lacks the read scope');
      }
      // app:secret needs write: reading a secret hands over the power to act, so it is never a read.
      const need: AppScope = access === 'app:read' ? 'read' : access === 'app:publish' ? 'publish' : 'write';
      // write implies publish and read; publish alone does not imply read.
      const ok = p.scopes.has(need) || (need !== 'write' && p.scopes.has('write'));
      if (!ok) return sendError(reply, 'forbidden', `this token lacks the ${need} scope`);
    });
  }
}

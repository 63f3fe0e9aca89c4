/**
 * Conditional reads: every successful GET answer carries an `ETag` (a digest of its body),
 * and a request whose `If-None-Match` names it gets `304 Not Modified` with no body, so a
 * poller that finds nothing new transfers nothing. A route that already knows its body's tag
 * (one body shared by many answers) sets the header itself and it is used as it is.
 */
import { hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The entity tag of a body: weak, as proxies may re-encode it. */
export function etagOf(body: string | Buffer): string {
  return 'W/"' + hash('sha256', body, 'base64url').slice(0, 27) + '"';
}

/** `If-None-Match` semantics (weak comparison): `*`, or a listed tag equal to `tag`. */
export function noneMatch(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  const opaque = (t: string): string => t.trim().replace(/^W\//, '');
  const want = opaque(tag);
  return header.split(',').some((t) => t.trim() === '*' || opaque(t) === want);
}

/** Installs the hook on every route of the app; call before routes are added. */
export function registerEtags(app: FastifyInstance): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || reply.statusCode !== 200) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const known = reply.getHeader('etag');
    const tag = typeof known === 'string' ? known : etagOf(payload);
    if (tag !== known) void reply.header('etag', tag);
    if (!noneMatch(req.headers['if-none-match'], tag)) return payload;
    void reply.code(304);
    reply.removeHeader('content-type');
    reply.removeHeader('content-length');
    return '';
  });
}

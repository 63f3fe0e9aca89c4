/**
 * Defences of the HTTP server against hostile clients: header count and size limits,
 * timeouts for slow senders and security headers on HTML answers.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';
import type { ConnectionLimits } from './connection-guard.js';

export interface HardeningSettings {
  /** Most request header fields; more get 431. */
  maxHeaderCount: number;
  /** Most bytes of the request line and headers together; more get 431. */
  maxHeaderBytes: number;
  /** Time a client has to send the request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included. */
  requestTimeoutMs: number;
  /** Sent as `Strict-Transport-Security` on HTML answers when users reach the server over https. */
  https: boolean;
  /** Time an idle keep-alive connection is kept (Node's default, 5 s, when absent). */
  keepAliveTimeoutMs?: number | undefined;
  /** Caps on client connections and the send timeout; none when absent. */
  connections?: ConnectionLimits | undefined;
}

/** Security headers of every HTML answer: no framing, no sniffing, no referrer, scripts from this origin only. */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/**
 * Applies the slow-client timeouts and the header size limit to the Node HTTP server. Every
 * timeout is set here on purpose: headers and the whole request have their limits (then 408,
 * and the socket is destroyed shortly after: see answerAndClose); an idle keep-alive
 * connection is closed after `keepAliveTimeoutMs`; there is no socket inactivity timeout
 * (`server.timeout` 0), because long polls and streams are quiet by design; a response the
 * client does not read is cut by the connection guard's send timeout instead.
 */
export function limitServer(server: Server, s: HardeningSettings): void {
  server.headersTimeout = s.headersTimeoutMs;
  server.requestTimeout = Math.max(s.requestTimeoutMs, s.headersTimeoutMs);
  server.keepAliveTimeout = s.keepAliveTimeoutMs ?? 5000;
  server.timeout = 0;
  // Read by the server for every new connection; not in the typings as writable properties.
  const raw = server as unknown as { maxHeaderSize: number; connectionsCheckingInterval: number };
  raw.maxHeaderSize = s.maxHeaderBytes;
  // Node checks the timeouts on this interval (30 s by default): check often enough to honour them.
  raw.connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(s.headersTimeoutMs / 2)));
}

/** Installs the header-count check and the response headers; call before `Auth.register`. */
export function registerHardening(app: FastifyInstance, s: HardeningSettings): void {
  limitServer(app.server, s);

  // A connection that has not sent a request is neither idle nor timed out for Node once the
  // server is closing, so it would hold a stop open for as long as the client keeps it (HTTP
  // clients open spare connections ahead of need, e.g. after a stream is aborted). At close
  // such connections are cut; those that have sent a request are left to finish as before.
  const silent = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    silent.add(socket);
    socket.once('close', () => silent.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage) => silent.delete(req.socket));
  app.addHook('preClose', (done) => {
    for (const socket of silent) socket.destroy();
    done();
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.raw.rawHeaders.length / 2 > s.maxHeaderCount) {
      return sendError(reply, 'headers_too_large', `at most ${s.maxHeaderCount} request header fields are accepted`);
    }
  });

  app.addHook('onSend', async (_req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      // A page may set a stricter or page-specific policy of its own; it is kept.
      for (const [name, value] of Object.entries(HTML_SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
      if (s.https && !reply.hasHeader('strict-transport-security')) reply.header('strict-transport-security', 'max-age=31536000');
    }
    return payload;
  });
}

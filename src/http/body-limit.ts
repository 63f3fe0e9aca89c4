/**
 * Oversize bodies get a 413, always. A body whose Content-Length is over the route's limit is
 * answered before any of it is read; a chunked body is answered as soon as it passes the
 * limit (by Fastify's parser). Either way the client is usually still sending.
 *
 * Node closes a `Connection: close` socket as soon as the response is written. With request
 * bytes still arriving, the kernel answers them with a reset, which can reach the client
 * before it has read the response: it then sees "connection reset" instead of the 413. So a
 * connection answered 413 is closed the way web servers call a lingering close: the response
 * is written, the write side is shut (FIN), and what the client still sends is read and
 * dropped until it stops, for at most LINGER_MS.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

/** The longest a connection answered 413 keeps reading what the client still sends. */
export const LINGER_MS = 5_000;

/** Makes Node's close of this socket, once the response is written, a lingering close. */
function closeLingering(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket): void {
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    // The client has sent everything (its FIN): nothing more can reset the connection.
    this.once('end', () => this.destroy());
    this.end();
    this.resume();
  };
}

/** Installs the early check of Content-Length and the lingering close of every 413. */
export function registerBodyLimit(app: FastifyInstance): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const declared = Number(req.headers['content-length']);
    const limit = req.routeOptions.bodyLimit;
    if (Number.isFinite(declared) && limit !== undefined && declared > limit) {
      return sendError(reply, 'payload_too_large', `request body is larger than ${limit} bytes`);
    }
  });

  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode === 413 && !req.raw.complete) {
      reply.header('connection', 'close');
      closeLingering(req.raw.socket);
    }
    return payload;
  });
}

/**
 * Caps on client connections and the end of connections that outlive their timeouts.
 *
 * - Caps: a new connection is refused (destroyed at once, before any byte is read) when its
 *   client address already holds `maxPerAddress` connections, or all addresses together hold
 *   `maxConnections`. Refusals are counted and logged at most once per LOG_EVERY_MS.
 * - Streams: while a connection carries an SSE stream or a long poll it moves to the stream
 *   budget (`maxStreams` in all, `maxStreamsPerAddress` per address), so held streams never
 *   use up the connections API calls need. A stream beyond that budget keeps counting as an
 *   ordinary connection.
 * - A response the client does not read (its writes wait for `drain` longer than
 *   `sendTimeoutMs`) is cut: the socket is destroyed.
 * - `answerAndClose` writes an error answer on a raw socket (408, 431, 400) and destroys the
 *   socket after a short grace, whether or not the client reads it or closes its side.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { throttleKeyOfAddress } from '../access/client-address.js';
import type { ConnectionMetrics } from '../operations/connection-metrics.js';

export interface ConnectionLimits {
  /** Most connections making ordinary requests, all client addresses together. */
  maxConnections: number;
  /** Most such connections per client address (IPv6: per /64); 0 for no limit. */
  maxPerAddress: number;
  /** Most connections counted as streams (SSE, long polls), all addresses together. */
  maxStreams: number;
  /** Most stream connections per client address; 0 for no limit beyond `maxStreams`. */
  maxStreamsPerAddress: number;
  /** A response whose writes wait on the client this long is cut. */
  sendTimeoutMs: number;
  /** Addresses exempt from the per-address caps: trusted reverse proxies, which carry many clients. */
  exempt?: ((address: string) => boolean) | undefined;
}

/** How long an error answer written on a raw socket has to reach the client before the socket is destroyed. */
export const ERROR_CLOSE_GRACE_MS = 1000;

/** Refusals are logged at most this often (with the number refused since the last line). */
export const LOG_EVERY_MS = 10_000;

interface Tracked {
  key: string;
  exempt: boolean;
  /** Requests on it now held as streams (0 or 1: HTTP/1.1 answers one request at a time). */
  stream: boolean;
  /** When its writes first waited for `drain` without getting it; 0 when they do not. */
  stalledSince: number;
}

/** The caps as configured: null means derived from the file-descriptor limit. */
export interface ConnectionSettings {
  maxConnections: number | null;
  maxPerAddress: number | null;
  maxStreamsPerAddress: number;
  sendTimeoutMs: number;
}

/** File descriptors kept for the database, logs and the listening socket, beside client and delivery sockets. */
const FD_RESERVE = 128;
/** File-descriptor limit assumed where it cannot be read. */
const FD_LIMIT_UNKNOWN = 4096;

/**
 * The caps in effect. Derived ones share the file descriptors left after the reserve and
 * outgoing delivery requests (`maxInflight`) half and half between ordinary connections and
 * streams; the per-address cap is a quarter of the total, at most 512.
 */
export function resolveConnectionLimits(
  s: ConnectionSettings,
  o: { fdLimit: number | null; maxInflight: number; maxStreams: number; exempt?: ((address: string) => boolean) | undefined },
): ConnectionLimits {
  const budget = Math.max(64, (o.fdLimit ?? FD_LIMIT_UNKNOWN) - FD_RESERVE - o.maxInflight);
  const maxConnections = s.maxConnections ?? Math.max(32, Math.floor(budget / 2));
  return {
    maxConnections,
    maxPerAddress: s.maxPerAddress ?? Math.min(512, Math.max(8, Math.floor(maxConnections / 4))),
    maxStreams: Math.min(o.maxStreams, s.maxConnections === null ? Math.max(32, budget - maxConnections) : o.maxStreams),
    maxStreamsPerAddress: s.maxStreamsPerAddress,
    sendTimeoutMs: s.sendTimeoutMs,
    exempt: o.exempt,
  };
}

/** Writes `response` on `socket`, ends it, and destroys it after ERROR_CLOSE_GRACE_MS if it is still open. */
export function answerAndClose(socket: Socket, response: string, graceMs = ERROR_CLOSE_GRACE_MS): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // A client that neither reads the answer nor closes its side would hold the half-closed socket forever.
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(response);
}

/** Whether a request holds its connection open: an SSE stream, or a long poll (`wait`). */
export function isLongLived(req: FastifyRequest): boolean {
  if (req.method !== 'GET') return false;
  const accept = req.headers.accept;
  if (typeof accept === 'string' && accept.includes('text/event-stream')) return true;
  if (req.url.split('?')[0]!.endsWith('/stream')) return true;
  const wait = (req.query as { wait?: unknown } | undefined)?.wait;
  return wait !== undefined && Number(wait) > 0;
}

export class ConnectionGuard {
  private readonly sockets = new Map<Socket, Tracked>();
  private readonly perAddress = new Map<string, number>();
  private readonly streamsPerAddress = new Map<string, number>();
  private requests = 0;
  private streams = 0;
  private refusedSinceLog = { address: 0, total: 0 };
  private lastLogAt = -Infinity;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
    private readonly metrics?: ConnectionMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** Connections now open: making ordinary requests, and held as streams. */
  counts(): { requests: number; streams: number } {
    return { requests: this.requests, streams: this.streams };
  }

  /** Watches the server's connections and the app's requests; call before routes are added. */
  register(app: FastifyInstance): void {
    this.attach(app.server);
    app.addHook('onRequest', async (req, reply) => {
      if (!isLongLived(req)) return;
      const socket = req.raw.socket;
      if (!this.toStream(socket)) return;
      // The response's close: the stream or long poll ended, or the connection went.
      reply.raw.once('close', () => this.toRequest(socket));
    });
    app.addHook('onClose', async () => this.stop());
  }

  /** Counts and caps the connections of `server`, and cuts responses that stall. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    const every = Math.max(50, Math.min(1000, Math.floor(this.limits.sendTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const key = throttleKeyOfAddress(address);
    const exempt = this.limits.exempt?.(address) ?? false;
    const held = this.perAddress.get(key) ?? 0;
    if (this.requests >= this.limits.maxConnections) return this.refuse(socket, 'total', key);
    if (!exempt && this.limits.maxPerAddress > 0 && held >= this.limits.maxPerAddress) return this.refuse(socket, 'address', key);
    const t: Tracked = { key, exempt, stream: false, stalledSince: 0 };
    this.sockets.set(socket, t);
    this.requests++;
    this.perAddress.set(key, held + 1);
    socket.on('drain', () => (t.stalledSince = 0));
    socket.once('close', () => this.release(socket));
  }

  private refuse(socket: Socket, limit: 'address' | 'total', key: string): void {
    socket.destroy();
    this.metrics?.refused(limit);
    this.refusedSinceLog[limit]++;
    const now = this.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) return;
    this.lastLogAt = now;
    const { address, total } = this.refusedSinceLog;
    this.refusedSinceLog = { address: 0, total: 0 };
    this.logger.warn(
      {
        refusedPerAddress: address,
        refusedTotal: total,
        lastAddress: key,
        maxConnections: this.limits.maxConnections,
        maxPerAddress: this.limits.maxPerAddress,
        open: this.requests,
        streams: this.streams,
      },
      limit === 'total'
        ? 'connection limit reached: new connections are refused (SWITCHBOARD_MAX_CONNECTIONS); logged at most every 10 s'
        : 'connection limit of a client address reached: its new connections are refused (SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS); logged at most every 10 s',
    );
  }

  private release(socket: Socket): void {
    const t = this.sockets.get(socket);
    if (!t) return;
    this.sockets.delete(socket);
    if (t.stream) this.leaveStreams(t);
    else this.leaveRequests(t);
  }

  /** Moves a connection to the stream budget if there is room; true if it moved. */
  private toStream(socket: Socket): boolean {
    const t = this.sockets.get(socket);
    if (!t || t.stream) return false;
    const held = this.streamsPerAddress.get(t.key) ?? 0;
    if (this.streams >= this.limits.maxStreams) return false;
    if (!t.exempt && this.limits.maxStreamsPerAddress > 0 && held >= this.limits.maxStreamsPerAddress) return false;
    this.leaveRequests(t);
    t.stream = true;
    this.streams++;
    this.streamsPerAddress.set(t.key, held + 1);
    return true;
  }

  /** A stream or long poll ended: the connection (if still open) counts as ordinary again. */
  private toRequest(socket: Socket): void {
    const t = this.sockets.get(socket);
    if (!t || !t.stream) return;
    this.leaveStreams(t);
    t.stream = false;
    this.requests++;
    this.perAddress.set(t.key, (this.perAddress.get(t.key) ?? 0) + 1);
  }

  private leaveRequests(t: Tracked): void {
    this.requests--;
    const n = (this.perAddress.get(t.key) ?? 1) - 1;
    if (n > 0) this.perAddress.set(t.key, n);
    else this.perAddress.delete(t.key);
  }

  private leaveStreams(t: Tracked): void {
    this.streams--;
    const n = (this.streamsPerAddress.get(t.key) ?? 1) - 1;
    if (n > 0) this.streamsPerAddress.set(t.key, n);
    else this.streamsPerAddress.delete(t.key);
  }

  /** Cuts connections whose writes have waited on the client longer than the send timeout. */
  private sweep(): void {
    const now = this.now();
    for (const [socket, t] of this.sockets) {
      if (!socket.writableNeedDrain) {
        t.stalledSince = 0;
        continue;
      }
      // Streams cut their stalled clients themselves (SWITCHBOARD_SSE_STALL_MS).
      if (t.stream) continue;
      if (t.stalledSince === 0) t.stalledSince = now;
      else if (now - t.stalledSince >= this.limits.sendTimeoutMs) {
        this.metrics?.cut('send_timeout');
        this.logger.debug({ address: t.key }, 'response cut: the client has not read it within the send timeout');
        socket.destroy();
      }
    }
  }
}

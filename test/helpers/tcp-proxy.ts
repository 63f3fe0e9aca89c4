/**
 * A loopback TCP proxy put between Switchboard and a broker, so a test can take the broker
 * "down" and bring it back without touching the shared broker server: `down()` stops
 * listening and cuts every connection (new connections are refused), `up()` listens again
 * on the same port, `cut()` cuts the open connections but keeps accepting, and
 * `cutAfterBytes(n)` cuts them once `n` more bytes have gone towards the broker (a cut in
 * the middle of a batch), and `resetWhenSent(text)` resets them instead of forwarding the next
 * data towards the broker that contains `text` (a cut at one chosen step of a protocol), and
 * `freeze()` stops reading from every connection, both ways, until `thaw()`: to the broker the
 * client looks frozen (its data goes unacknowledged once the buffers are full), as a process
 * stopped or a host cut off by the network does; `endNew()` accepts new connections and closes
 * them at once, cleanly, as a proxy or load balancer in front of a broker that is down does.
 * Its port lies below the ephemeral range, so no other server takes it while the proxy is down.
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private cutBudget: number | null = null;
  private resetMarker: Buffer | null = null;
  private frozen = false;
  private endingNew = false;
  /** The proxy's own ends of its connections to the broker (the broker sees these as its clients). */
  private readonly upstreams = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy listening on a free loopback port, forwarding to the broker at `url`'s host and port. */
  static async to(url: string, defaultPort: number): Promise<TcpProxy> {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, u.port ? Number(u.port) : defaultPort);
    await proxy.up();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString().replace(/\/$/, '');
  }

  async up(): Promise<void> {
    if (this.server) return;
    if (this.port !== 0) {
      this.server = await this.listen(this.port);
      return;
    }
    // A port below the kernel's ephemeral range (32768 and up on Linux), so that while the
    // proxy is down no server of a test running beside it, listening on port 0, takes it.
    for (let tries = 0; ; tries++) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      try {
        this.server = await this.listen(port);
        this.port = port;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 50) throw e;
      }
    }
  }

  private async listen(port: number): Promise<Server> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /**
   * Stops listening and cuts every connection: the broker looks down. With `reset`, the
   * connections are reset (RST), as a server that dies or a network that fails shows it;
   * otherwise they are closed.
   */
  async down(how: { reset?: boolean } = {}): Promise<void> {
    const server = this.server;
    this.server = null;
    this.cut(how);
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Cuts the open connections (resets them with `reset`); new ones are still accepted. */
  cut(how: { reset?: boolean } = {}): void {
    for (const s of this.sockets) {
      if (how.reset) s.resetAndDestroy();
      else s.destroy();
    }
    this.sockets.clear();
    this.upstreams.clear();
  }

  /** Cuts the open connections once `bytes` more bytes have been forwarded to the broker. */
  cutAfterBytes(bytes: number): void {
    this.cutBudget = bytes;
  }

  /** Resets the open connections, once, instead of forwarding data towards the broker that contains `text`. */
  resetWhenSent(text: string): void {
    this.resetMarker = Buffer.from(text);
  }

  /** While `on`, accepts new connections and closes each at once, cleanly (FIN), before any byte. */
  endNew(on = true): void {
    this.endingNew = on;
  }

  /** Stops reading from every connection, open and new, in both directions, until `thaw()`. */
  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
  }

  /** The local ports of the open connections to the broker: the client ports the broker sees. */
  upstreamPorts(): number[] {
    return [...this.upstreams].flatMap((s) => (s.localPort !== undefined ? [s.localPort] : []));
  }

  private accept(client: Socket): void {
    this.accepted++;
    if (this.endingNew) {
      // Read on, so the client's own close is seen and the socket ends.
      client.on('error', () => client.destroy()).resume();
      client.end();
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    this.upstreams.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.upstreams.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (this.resetMarker !== null && chunk.includes(this.resetMarker)) {
        this.resetMarker = null;
        this.cut({ reset: true });
        return;
      }
      if (this.cutBudget !== null) {
        if (chunk.length >= this.cutBudget) {
          const head = chunk.subarray(0, this.cutBudget);
          this.cutBudget = null;
          upstream.write(head, () => this.cut());
          return;
        }
        this.cutBudget -= chunk.length;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    if (this.frozen) {
      client.pause();
      upstream.pause();
    }
  }
}

/** A real HTTP receiver on loopback that records what arrives and answers as told. */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** Decides the response; return `'hang'` to never answer. */
export type Behaviour = (req: Received, res: ServerResponse, n: number) => void | 'hang';

export class Receiver {
  readonly received: Received[] = [];
  private server: Server;
  private behaviours = new Map<string, Behaviour>();
  private counts = new Map<string, number>();
  private hung: ServerResponse[] = [];
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const r: Received = { path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(r);
        const n = (this.counts.get(path) ?? 0) + 1;
        this.counts.set(path, n);
        const b = this.behaviours.get(path);
        const outcome = b ? b(r, res, n) : res.writeHead(200).end('ok');
        if (outcome === 'hang') this.hung.push(res);
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string, b: Behaviour): void {
    this.behaviours.set(path, b);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

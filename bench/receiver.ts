/**
 * The benchmark receiver: an HTTP server on 127.0.0.1 run as a child process of the
 * orchestrator (bench/run.ts), controlled over the fork IPC channel (see lib/protocol.ts).
 *
 * Per path it answers 200, never answers, answers after a delay, fails with a status,
 * answers 429/503 with Retry-After, or resets the connection; the whole receiver can be
 * "down" (not listening) and come up later. It optionally verifies Standard Webhooks
 * signatures with the `standardwebhooks` package and records, for the first arrival of
 * each webhook-id per path, arrival time minus `payload.sentAt` (the publisher's wall
 * clock on the same machine).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { Counter } from './lib/counter.js';
import { wallMs } from './lib/hist.js';
import type { CountStats, FromReceiver, ReceiverStats, RouteConfig, ToReceiver } from './lib/protocol.js';

/** Bound on remembered webhook-ids per path (duplicate detection). */
const MAX_IDS_PER_PATH = 2_000_000;

interface Route {
  config: RouteConfig;
  verifier: Webhook | null;
  counter: Counter;
  seen: Set<string>;
}

const routes = new Map<string, Route>();
const groups = new Map<string, Counter>();
let phase = 'initial';
let phaseStart = wallMs();
const servers = new Map<number, Server>();
/** Requests being held open (hang / delay), so they can be torn down on close. */
const held = new Set<ServerResponse>();

function groupCounter(name: string): Counter {
  let g = groups.get(name);
  if (!g) {
    g = new Counter();
    groups.set(name, g);
  }
  return g;
}

function routeFor(path: string): Route {
  let r = routes.get(path);
  if (!r) {
    // Unknown paths answer 200 and are counted under "unrouted".
    r = { config: { mode: { kind: 'ok' }, group: 'unrouted' }, verifier: null, counter: new Counter(), seen: new Set() };
    routes.set(path, r);
  }
  return r;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= 1 << 20) chunks.push(c);
  });
  req.on('end', () => {
    const now = wallMs();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routeFor(path);
    const group = groupCounter(route.config.group);
    route.counter.requests++;
    group.requests++;

    const body = Buffer.concat(chunks).toString('utf8');
    const id = header(req, 'webhook-id') ?? header(req, 'svix-id') ?? '';
    let payload: unknown;
    let ok = true;
    if (route.verifier) {
      try {
        payload = route.verifier.verify(body, {
          'webhook-id': id,
          'webhook-timestamp': header(req, 'webhook-timestamp') ?? header(req, 'svix-timestamp') ?? '',
          'webhook-signature': header(req, 'webhook-signature') ?? header(req, 'svix-signature') ?? '',
        });
      } catch {
        ok = false;
      }
    } else {
      try {
        payload = JSON.parse(body);
      } catch {
        payload = undefined;
      }
    }
    if (!ok) {
      route.counter.verifyFailed++;
      group.verifyFailed++;
    } else {
      const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
      const sentAt = typeof p['sentAt'] === 'number' ? p['sentAt'] : undefined;
      if (p['phase'] !== undefined && p['phase'] !== phase) {
        route.counter.stale++;
        group.stale++;
      } else if (route.seen.has(id)) {
        route.counter.duplicates++;
        group.duplicates++;
      } else {
        if (route.seen.size < MAX_IDS_PER_PATH) route.seen.add(id);
        route.counter.arrival(now, sentAt, phaseStart);
        group.arrival(now, sentAt, phaseStart);
      }
    }
    respond(route, res);
  });
}

function respond(route: Route, res: ServerResponse): void {
  const mode = route.config.mode;
  switch (mode.kind) {
    case 'ok':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
      return;
    case 'fail':
      res.writeHead(mode.status, { 'content-type': 'text/plain', 'content-length': '4' }).end('fail');
      return;
    case 'retry-after':
      res.writeHead(mode.status, { 'retry-after': String(mode.seconds), 'content-length': '0' }).end();
      return;
    case 'reset':
      res.socket?.destroy();
      return;
    case 'hang':
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    case 'delay': {
      held.add(res);
      const t = setTimeout(() => {
        held.delete(res);
        if (!res.destroyed) res.writeHead(200, { 'content-length': '2' }).end('ok');
      }, mode.ms);
      res.on('close', () => {
        clearTimeout(t);
        held.delete(res);
      });
      return;
    }
  }
}

function send(msg: FromReceiver): void {
  process.send?.(msg);
}

async function listen(port: number): Promise<number> {
  if (servers.has(port)) throw new Error(`already listening on ${port}`);
  const s = createServer({ keepAlive: true }, handle);
  // Long keep-alive so the sender's pooled connections are not closed under it mid-run.
  s.keepAliveTimeout = 65_000;
  s.headersTimeout = 66_000;
  s.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
      s.off('error', reject);
      resolve();
    });
  });
  const addr = s.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  servers.set(actual, s);
  return actual;
}

async function close(): Promise<void> {
  const all = [...servers.values()];
  servers.clear();
  for (const r of held) r.socket?.destroy();
  held.clear();
  await Promise.all(
    all.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
}

function configure(newRoutes: Record<string, RouteConfig>): void {
  for (const [path, config] of Object.entries(newRoutes)) {
    const existing = routes.get(path);
    const verifier = config.secret ? new Webhook(config.secret) : null;
    if (existing) {
      existing.config = config;
      existing.verifier = verifier;
    } else {
      routes.set(path, { config, verifier, counter: new Counter(), seen: new Set() });
    }
  }
}

function resetPhase(name: string): void {
  phase = name;
  phaseStart = wallMs();
  for (const r of routes.values()) {
    r.counter.resetPhase();
    r.seen.clear();
  }
  for (const g of groups.values()) g.resetPhase();
}

function stats(withTimeline: boolean, light: boolean): ReceiverStats {
  const paths: Record<string, CountStats> = {};
  for (const [p, r] of routes) paths[p] = r.counter.snapshot(withTimeline && !light, light);
  const gs: Record<string, CountStats> = {};
  for (const [name, g] of groups) gs[name] = g.snapshot(withTimeline && !light, light);
  return { phase, phaseStart, listening: servers.size > 0, paths, groups: gs };
}

async function onMessage(msg: ToReceiver): Promise<void> {
  try {
    switch (msg.type) {
      case 'configure':
        configure(msg.routes);
        send({ type: 'ack', id: msg.id });
        return;
      case 'listen': {
        const port = await listen(msg.port);
        send({ type: 'ack', id: msg.id, port });
        return;
      }
      case 'close':
        await close();
        send({ type: 'ack', id: msg.id });
        return;
      case 'reset':
        resetPhase(msg.phase);
        send({ type: 'ack', id: msg.id });
        return;
      case 'stats':
        send({ type: 'stats', id: msg.id, stats: stats(msg.timeline, msg.light) });
        return;
    }
  } catch (err) {
    send({ type: 'ack', id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
}

if (!process.send) {
  console.error('bench/receiver.js is started by bench/run.js (it needs an IPC channel)');
  process.exit(2);
}
process.on('message', (m: ToReceiver) => {
  void onMessage(m);
});
// The orchestrator going away (even by SIGKILL) closes the channel: exit with it.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
send({ type: 'ready' });

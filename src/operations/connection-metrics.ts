/**
 * Metrics of client connections and file descriptors: connections open by kind, connections
 * refused by the caps or cut for not reading, and the file-descriptor headroom (open
 * descriptors against the soft limit; Linux only, left out elsewhere).
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { fdSoftLimit, openFdCount } from './fd-usage.js';

export interface ConnectionMetrics {
  refused(limit: 'address' | 'total'): void;
  cut(reason: 'send_timeout'): void;
}

/** Registers the metrics; `counts` is read at scrape time. */
export function registerConnectionMetrics(registry: Registry, counts: () => { requests: number; streams: number }): ConnectionMetrics {
  const registers = [registry];
  new Gauge({
    name: 'switchboard_client_connections',
    help: 'Client connections open, by kind: request (ordinary requests, idle keep-alive) or stream (SSE streams and long polls, a budget of their own).',
    labelNames: ['kind'],
    registers,
    collect() {
      const c = counts();
      this.set({ kind: 'request' }, c.requests);
      this.set({ kind: 'stream' }, c.streams);
    },
  });
  const refused = new Counter({
    name: 'switchboard_connections_refused_total',
    help: 'Client connections refused (closed at once) by a cap: per client address (address) or in all (total).',
    labelNames: ['limit'],
    registers,
  });
  const cut = new Counter({
    name: 'switchboard_connections_cut_total',
    help: 'Client connections destroyed because the client did not read its response within the send timeout.',
    labelNames: ['reason'],
    registers,
  });
  if (fdSoftLimit() !== null && openFdCount() !== null) {
    new Gauge({
      name: 'switchboard_open_fds',
      help: 'File descriptors this process has open (client and delivery sockets, database files).',
      registers,
      collect() {
        this.set(openFdCount() ?? 0);
      },
    });
    new Gauge({
      name: 'switchboard_fd_limit',
      help: 'Soft limit of open file descriptors of this process.',
      registers,
      collect() {
        this.set(fdSoftLimit() ?? 0);
      },
    });
    new Gauge({
      name: 'switchboard_fd_headroom',
      help: 'File descriptors still available below the soft limit; near 0, new connections and files fail.',
      registers,
      collect() {
        this.set(Math.max(0, (fdSoftLimit() ?? 0) - (openFdCount() ?? 0)));
      },
    });
  }
  return { refused: (limit) => refused.inc({ limit }), cut: (reason) => cut.inc({ reason }) };
}

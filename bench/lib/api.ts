/** A minimal admin client for the parts of the API the benchmarks set up. */
import { Pool } from 'undici';
import { ADMIN_TOKEN } from './proc.js';

export interface EndpointSpec {
  url: string;
  throttleRate?: number;
  uid?: string;
  description?: string;
  /** Content filter (docs/transformations.md). */
  filter?: Record<string, unknown>;
}

export interface EndpointStats {
  success: number;
  pending: number;
  fail: number;
  sending: number;
}

export class Api {
  private readonly pool: Pool;
  readonly headers: Record<string, string>;

  constructor(readonly baseUrl: string) {
    this.pool = new Pool(baseUrl, { connections: 8, headersTimeout: 30_000, bodyTimeout: 30_000 });
    this.headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.pool.request({
      method,
      path,
      // No content type without a body: the server refuses an empty JSON body (a DELETE, say).
      headers: body === undefined ? { authorization: this.headers.authorization! } : this.headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path} -> ${res.statusCode}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async createApp(name: string): Promise<string> {
    const app = await this.call<{ id: string }>('POST', '/api/v1/app', { name });
    return app.id;
  }

  async createEndpoint(appId: string, spec: EndpointSpec): Promise<string> {
    const ep = await this.call<{ id: string }>('POST', `/api/v1/app/${appId}/endpoint`, spec);
    return ep.id;
  }

  async secret(appId: string, endpointId: string): Promise<string> {
    const s = await this.call<{ key: string }>('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/secret`);
    return s.key;
  }

  async publish(appId: string, eventType: string, payload: Record<string, unknown>): Promise<string> {
    const m = await this.call<{ id: string }>('POST', `/api/v1/app/${appId}/msg`, { eventType, payload });
    return m.id;
  }

  async endpointStats(appId: string, endpointId: string): Promise<EndpointStats> {
    return this.call<EndpointStats>('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/stats`);
  }

  /** The server's Prometheus metrics (`GET /metrics`). */
  async metrics(): Promise<Metrics> {
    const res = await this.pool.request({ method: 'GET', path: '/metrics' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET /metrics -> ${res.statusCode}: ${text.slice(0, 200)}`);
    return new Metrics(text);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** A scrape of `/metrics` (Prometheus text format). */
export class Metrics {
  private readonly series: { name: string; labels: Record<string, string>; value: number }[] = [];

  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m?.[1] || m[3] === undefined) continue;
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) if (l[1]) labels[l[1]] = l[2] ?? '';
      this.series.push({ name: m[1], labels, value: Number(m[3]) });
    }
  }

  /** Sum of the series of `name` whose labels include `labels` (0 if none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const s of this.series) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }
}

export interface EndpointInfo {
  appId: string;
  endpointId: string;
  /** Receiver path, e.g. "/e2e/0". */
  path: string;
  secret: string;
}

/** Creates one endpoint per path on the given app, pointed at the receiver, and fetches their secrets. */
export async function addEndpoints(
  api: Api,
  appId: string,
  receiverPort: number,
  paths: string[],
  spec: (path: string, i: number) => Partial<EndpointSpec> = () => ({}),
): Promise<EndpointInfo[]> {
  const out: EndpointInfo[] = [];
  for (const [i, path] of paths.entries()) {
    const endpointId = await api.createEndpoint(appId, { url: `http://127.0.0.1:${receiverPort}${path}`, ...spec(path, i) });
    const secret = await api.secret(appId, endpointId);
    out.push({ appId, endpointId, path, secret });
  }
  return out;
}

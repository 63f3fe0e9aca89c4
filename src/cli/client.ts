/**
 * The CLI's HTTP client: where the server is and which token to send (flags, then
 * environment, then the config file), JSON requests, paging, and errors that carry the
 * server's `{code, detail}` and an exit code.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT, exitCodeForStatus } from './exit-codes.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8071';

export interface Connection {
  server: string;
  token: string | undefined;
}

/** What `switchboard login` saves. */
export interface CliConfigFile {
  server?: string;
  token?: string;
}

type Env = Record<string, string | undefined>;

/** The config file: `SWITCHBOARD_CLI_CONFIG`, else `~/.switchboard/config.json`. */
export function configPath(env: Env = process.env): string {
  return env.SWITCHBOARD_CLI_CONFIG || join(homedir(), '.switchboard', 'config.json');
}

export function readConfigFile(path: string): CliConfigFile {
  if (!existsSync(path)) return {};
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e: unknown) {
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`, EXIT.usage);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new CliError(`${path} must hold a JSON object`, EXIT.usage);
  const o = v as Record<string, unknown>;
  return { server: typeof o.server === 'string' ? o.server : undefined, token: typeof o.token === 'string' ? o.token : undefined };
}

/** Writes the config file readable by its owner only: it holds a token. */
export function writeConfigFile(path: string, c: CliConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Flags win over the environment, which wins over the config file. */
export function resolveConnection(flags: { server?: string | undefined; token?: string | undefined }, env: Env = process.env): Connection {
  const file = readConfigFile(configPath(env));
  const server = flags.server || env.SWITCHBOARD_SERVER_URL || file.server || DEFAULT_SERVER;
  try {
    const u = new URL(server);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new CliError(`"${server}" is not an http(s) URL`, EXIT.usage);
  }
  return { server: server.replace(/\/+$/, ''), token: flags.token || env.SWITCHBOARD_TOKEN || file.token };
}

/** The server answered with an error. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly detail: string,
  ) {
    super(`${status}${code ? ` ${code}` : ''}: ${detail}`, exitCodeForStatus(status));
  }
}

/** Turns an error body into one readable line. */
function detailOf(body: unknown, text: string): { code: string | undefined; detail: string } {
  const b = body as { code?: unknown; detail?: unknown } | null;
  const code = typeof b?.code === 'string' ? b.code : undefined;
  if (typeof b?.detail === 'string') return { code, detail: b.detail };
  if (Array.isArray(b?.detail)) {
    const issues = (b.detail as { loc?: unknown[]; msg?: unknown }[]).map((i) => `${(i.loc ?? []).join('.')}: ${String(i.msg)}`);
    return { code: code ?? 'validation', detail: issues.join('; ') };
  }
  return { code, detail: text.slice(0, 500) || 'no detail' };
}

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export class ApiClient {
  constructor(readonly conn: Connection) {}

  /** Sends a request; resolves with the parsed JSON body (null for an empty one). */
  async request<T = unknown>(method: string, path: string, opts: { body?: unknown; query?: Query; headers?: Record<string, string>; auth?: boolean } = {}): Promise<T> {
    const url = new URL(this.conn.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) url.searchParams.append(k, x);
      else url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
    if (opts.auth !== false) {
      if (!this.conn.token) throw new CliError('no token: pass --token, set SWITCHBOARD_TOKEN, or run `switchboard login`', EXIT.auth);
      headers.authorization = `Bearer ${this.conn.token}`;
    }
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (e: unknown) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.conn.server}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, EXIT.unreachable);
    }
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) {
      const { code, detail } = detailOf(body, text);
      throw new ApiError(res.status, code, detail);
    }
    return body as T;
  }

  /** Every item of a list endpoint, page by page, up to `max`. */
  async *items<T>(path: string, query: Query = {}, max = Infinity): AsyncGenerator<T> {
    let iterator: string | undefined;
    let seen = 0;
    for (;;) {
      const page = await this.request<{ data: T[]; iterator: string | null; done: boolean }>('GET', path, {
        query: { ...query, limit: Math.min(250, Math.max(1, max - seen)), iterator },
      });
      for (const item of page.data) {
        yield item;
        if (++seen >= max) return;
      }
      if (page.done || !page.iterator || page.data.length === 0) return;
      iterator = page.iterator;
    }
  }
}

/** `encodeURIComponent`, for path segments. */
export const seg = encodeURIComponent;

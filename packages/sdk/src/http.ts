/** The HTTP core: base URL, bearer token (fixed or provided on demand), JSON, errors. */

/** A bearer token, or a function that returns a current one (OAuth access tokens). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** Base URL of the Switchboard server, e.g. `http://127.0.0.1:8071`. */
  serverUrl: string;
  token?: TokenSource;
  /** A `fetch` implementation; the global one by default. */
  fetch?: typeof fetch;
  /** Headers added to every request. */
  headers?: Record<string, string>;
}

export type Query = Record<string, string | number | boolean | readonly string[] | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send no Authorization header (public routes). */
  anonymous?: boolean;
}

/** The server answered with an error: `{code, detail}` (or a 422 list of issues). */
export class SwitchboardError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: unknown,
    readonly body: unknown,
  ) {
    super(`${status} ${code}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    this.name = 'SwitchboardError';
  }
}

/** Makes the error for a non-2xx response. */
export async function errorOf(res: Response): Promise<SwitchboardError> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  const b = body as { code?: unknown; detail?: unknown; error?: unknown } | null;
  const code = typeof b?.code === 'string' ? b.code : typeof b?.error === 'string' ? b.error : res.status === 422 ? 'validation' : 'http_error';
  return new SwitchboardError(res.status, code, b?.detail ?? text, body);
}

export class Http {
  readonly serverUrl: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly o: ClientOptions) {
    this.serverUrl = o.serverUrl.replace(/\/+$/, '');
    this.fetchFn = o.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The full URL of a path with its query. */
  url(path: string, query: Query = {}): string {
    const u = new URL(this.serverUrl + path);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v as readonly string[]) u.searchParams.append(k, x);
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  /** Headers with the current bearer token. */
  async headers(extra: Record<string, string> = {}, anonymous = false): Promise<Record<string, string>> {
    const h: Record<string, string> = { ...(this.o.headers ?? {}), ...extra };
    if (!anonymous && this.o.token !== undefined) {
      const token = typeof this.o.token === 'function' ? await this.o.token() : this.o.token;
      h.authorization = `Bearer ${token}`;
    }
    return h;
  }

  /** Sends a request and returns the raw response (any status). */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers = await this.headers({ accept: 'application/json', ...(opts.headers ?? {}) }, opts.anonymous);
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return this.fetchFn(this.url(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  }

  /** Sends a request; resolves with the JSON body (undefined for 204), throws SwitchboardError otherwise. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    if (!res.ok) throw await errorOf(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** Encodes a path segment. */
export const seg = (s: string): string => encodeURIComponent(s);

/** A time as the API expects it. */
export const iso = (t: Date | string): string => (typeof t === 'string' ? t : t.toISOString());

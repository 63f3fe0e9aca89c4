/** The HTTP API client: bearer token, JSON, and errors in the API's shape. */
import { readToken } from './session';

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super(detail);
  }

  /** The server has no such route (a feature this server does not offer). */
  get missingRoute(): boolean {
    return this.status === 404 && this.message.startsWith('no route');
  }

  /** The issue for a body field, if the server named one. */
  fieldIssue(field: string): string | undefined {
    return this.issues.find((i) => i.loc[0] === 'body' && i.loc[1] === field)?.msg;
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the server refuses the token (expired, revoked). */
export function onUnauthorized(l: Listener): () => void {
  unauthorizedListeners.add(l);
  return () => unauthorizedListeners.delete(l);
}

export interface ListResponse<T> {
  data: T[];
  iterator: string | null;
  prevIterator?: string | null;
  done: boolean;
}

/** Builds a query string, skipping empty values; arrays become repeated parameters. */
export function qs(params: Record<string, string | number | boolean | string[] | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) sp.append(k, x);
    else sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? '?' + s : '';
}

async function parseError(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const b = (body ?? {}) as { code?: unknown; detail?: unknown };
  if (Array.isArray(b.detail)) {
    const issues = b.detail as ValidationIssue[];
    return new ApiError(res.status, 'validation', issues.map((i) => `${i.loc.slice(1).join('.')}: ${i.msg}`).join('; '), issues);
  }
  const detail = typeof b.detail === 'string' ? b.detail : `${res.status} ${res.statusText}`;
  return new ApiError(res.status, typeof b.code === 'string' ? b.code : 'error', detail);
}

/** Calls the API; resolves with the parsed body (undefined for 204), rejects with ApiError. */
export async function api<T = unknown>(method: string, path: string, body?: unknown, token: string | null = readToken(), signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, 'network', 'cannot reach the server; check your connection');
  }
  if (res.status === 401) for (const l of unauthorizedListeners) l();
  if (!res.ok) throw await parseError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Path segment encoding for ids and names. */
export const enc = encodeURIComponent;

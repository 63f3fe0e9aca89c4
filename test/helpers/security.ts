/** Helpers of the security tests: requests with any credential, and credentials made through the API. */
import type { TestServer } from './server.js';

export interface Res {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** A request to the server with the given bearer token (or none). */
export async function call(
  server: TestServer,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(server.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Creates an application; returns its id. */
export async function createApp(server: TestServer, name: string, uid?: string): Promise<string> {
  const r = await server.api('POST', '/api/v1/app', { name, ...(uid ? { uid } : {}) });
  if (r.status !== 201) throw new Error(`app creation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

/** Creates an API key through the API; returns the key and its id. */
export async function createKey(server: TestServer, scopes: string[], appId?: string, extra: Record<string, unknown> = {}): Promise<{ key: string; id: string; body: any }> {
  const r = await server.api('POST', '/api/v1/api-key', { name: 'test key', scopes, ...(appId ? { appId } : {}), ...extra });
  if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { key: r.body.key as string, id: r.body.id as string, body: r.body };
}

/** Creates an OAuth client and gets a token for it. */
export async function oauthToken(server: TestServer, scopes: string[], appId?: string): Promise<{ token: string; clientId: string; clientSecret: string }> {
  const c = await server.api('POST', '/api/v1/oauth/client', { name: 'test client', scopes, ...(appId ? { appId } : {}) });
  if (c.status !== 201) throw new Error(`client creation failed: ${c.status} ${JSON.stringify(c.body)}`);
  const t = await fetch(server.url + '/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.body.id, client_secret: c.body.clientSecret }).toString(),
  });
  const body = (await t.json()) as { access_token?: string };
  if (t.status !== 200 || !body.access_token) throw new Error(`token request failed: ${t.status} ${JSON.stringify(body)}`);
  return { token: body.access_token, clientId: c.body.id, clientSecret: c.body.clientSecret };
}

/** Gets an app-portal token for the application. */
export async function portalToken(server: TestServer, appId: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await server.api('POST', `/api/v1/auth/app-portal-access/${appId}`, body);
  if (r.status !== 200) throw new Error(`portal access failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

/** OAuth 2.0: clients, the client-credentials token endpoint, JWKS, and a self-renewing token source. */
import { Http, errorOf, seg } from './http.js';
import type { ClientOptions } from './http.js';
import type { Jwks, OAuthClientCreated, OAuthClientIn, OAuthClientOut, OAuthClientPage, OAuthTokenOut } from './generated/types.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for (default: all the client has). */
  scope?: string;
}

/** Asks the token endpoint for an access token (client credentials grant). */
export async function requestToken(http: Http, c: ClientCredentials, signal?: AbortSignal): Promise<OAuthTokenOut> {
  const res = await http.raw('POST', '/oauth/token', {
    anonymous: true,
    body: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: c.scope },
    signal,
  });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as OAuthTokenOut;
}

/**
 * A token source for `new Switchboard({ token })` that gets an access token with client
 * credentials and gets a new one shortly before it expires.
 */
export function clientCredentials(serverUrl: string, c: ClientCredentials, o: Pick<ClientOptions, 'fetch'> & { refreshBeforeSeconds?: number } = {}): () => Promise<string> {
  const http = new Http({ serverUrl, fetch: o.fetch });
  let current: { token: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;
  return async () => {
    if (current && Date.now() < current.renewAt) return current.token;
    pending ??= requestToken(http, c)
      .then((t) => {
        const margin = Math.min(o.refreshBeforeSeconds ?? 30, t.expires_in / 2);
        current = { token: t.access_token, renewAt: Date.now() + (t.expires_in - margin) * 1000 };
        return t.access_token;
      })
      .finally(() => (pending = null));
    return pending;
  };
}

export class OAuth {
  constructor(private readonly http: Http) {}

  createClient(body: OAuthClientIn): Promise<OAuthClientCreated> {
    return this.http.request('POST', '/api/v1/oauth/client', { body });
  }

  listClients(o: { limit?: number; iterator?: string } = {}): Promise<OAuthClientPage> {
    return this.http.request('GET', '/api/v1/oauth/client', { query: o });
  }

  getClient(id: string): Promise<OAuthClientOut> {
    return this.http.request('GET', `/api/v1/oauth/client/${seg(id)}`);
  }

  /** Revokes a client and every token it holds. */
  async revokeClient(id: string): Promise<void> {
    await this.http.request('DELETE', `/api/v1/oauth/client/${seg(id)}`);
  }

  token(c: ClientCredentials): Promise<OAuthTokenOut> {
    return requestToken(this.http, c);
  }

  /** The public keys access tokens are signed with. */
  jwks(): Promise<Jwks> {
    return this.http.request('GET', '/.well-known/jwks.json', { anonymous: true });
  }
}

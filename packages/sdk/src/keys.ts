/** API keys: created (the key is shown once), listed, revoked. */
import { seg } from './http.js';
import type { Http } from './http.js';
import type { ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPage } from './generated/types.js';

export class ApiKeys {
  constructor(private readonly http: Http) {}

  /** Creates a key; `key` in the answer is the only time it is shown. */
  create(body: ApiKeyIn): Promise<ApiKeyCreated> {
    return this.http.request('POST', '/api/v1/api-key', { body: { ...body, expiresAt: body.expiresAt ?? undefined } });
  }

  list(o: { limit?: number; iterator?: string; appId?: string } = {}): Promise<ApiKeyPage> {
    return this.http.request('GET', '/api/v1/api-key', { query: { limit: o.limit, iterator: o.iterator, app_id: o.appId } });
  }

  get(id: string): Promise<ApiKeyOut> {
    return this.http.request('GET', `/api/v1/api-key/${seg(id)}`);
  }

  async revoke(id: string): Promise<void> {
    await this.http.request('DELETE', `/api/v1/api-key/${seg(id)}`);
  }
}

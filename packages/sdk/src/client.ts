/** The Switchboard client: one object per server, a property per area of the API. */
import { Http } from './http.js';
import type { ClientOptions } from './http.js';
import { Messages } from './messages.js';
import { ApiKeys } from './keys.js';
import { OAuth } from './oauth.js';
import { OperationalWebhooks } from './operational-webhooks.js';
import { PollingEndpoints } from './polling.js';
import { Sources } from './sources.js';

/**
 * A client for Switchboard's own endpoints (long polls, streams, polling endpoints, sources,
 * keys, OAuth, operational webhooks). For the Svix-compatible API (applications, endpoints,
 * publishing) use the `svix` package with `serverUrl`.
 */
export class Switchboard {
  readonly http: Http;
  readonly messages: Messages;
  readonly pollingEndpoints: PollingEndpoints;
  readonly sources: Sources;
  readonly apiKeys: ApiKeys;
  readonly oauth: OAuth;
  readonly operationalWebhooks: OperationalWebhooks;

  constructor(o: ClientOptions) {
    this.http = new Http(o);
    this.messages = new Messages(this.http);
    this.pollingEndpoints = new PollingEndpoints(this.http);
    this.sources = new Sources(this.http);
    this.apiKeys = new ApiKeys(this.http);
    this.oauth = new OAuth(this.http);
    this.operationalWebhooks = new OperationalWebhooks(this.http);
  }

  /** True when the server and its database answer. */
  async healthy(): Promise<boolean> {
    try {
      const res = await this.http.raw('GET', '/api/v1/health', { anonymous: true });
      return res.status === 204;
    } catch {
      return false;
    }
  }
}

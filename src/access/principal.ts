/**
 * Who is calling: the principal a credential resolves to, and the access a route needs.
 * Plain types, shared by the credential services and the HTTP layer that checks them.
 */

/**
 * What a route needs. `app:*` routes act on the application named by the `app_id` parameter.
 * `app:secret` reads a secret (a signing secret, a token): it needs the write scope, because
 * whoever holds a secret can act as the application, which read-only access must never allow.
 */
export type Access = 'public' | 'admin' | 'any' | 'app:read' | 'app:write' | 'app:publish' | 'app:secret' | 'poller' | 'stream' | 'stream:poll';

export type AppScope = 'read' | 'write' | 'publish';

export type Principal =
  /** Organisation-wide: every route, every application. */
  | { kind: 'admin'; credentialId: string }
  /** One application, with scopes (API keys, OAuth tokens, portal tokens). */
  | { kind: 'app'; credentialId: string; appId: string; scopes: ReadonlySet<AppScope> }
  /** One polling endpoint of one application, and nothing else. */
  | { kind: 'poller'; credentialId: string; appId: string; pollerId: string }
  /** One stream (a stream portal token), or one poller sink of it (a stream poller token). */
  | { kind: 'stream'; credentialId: string; streamId: string; sinkId: string | null };

/** Turns a bearer token into a principal, or null if this resolver does not know it. */
export type TokenResolver = (token: string) => Promise<Principal | null>;

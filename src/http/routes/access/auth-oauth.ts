/**
 * The OAuth 2.0 token endpoint (client credentials, RFC 6749 §4.4), the JWKS and the
 * authorisation server metadata (RFC 8414). Public: the client authenticates with its secret.
 */
import type { FastifyReply } from 'fastify';
import type { JWK } from 'jose';
import type { AppDeps } from '../../deps.js';
import type { Auth } from '../../auth.js';
import type { RoutePlugin } from '../../route-plugin.js';
import type { OAuthService } from '../../../access/oauth.js';
import { AppError, ERRORS } from '../../../domain/errors.js';

const tokenIn = {
  type: ['object', 'null'],
  properties: {
    grant_type: { type: 'string', maxLength: 64 },
    client_id: { type: 'string', maxLength: 256 },
    client_secret: { type: 'string', maxLength: 256 },
    scope: { type: 'string', maxLength: 256 },
  },
} as const;

const tokenOut = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
  properties: { access_token: { type: 'string' }, token_type: { type: 'string' }, expires_in: { type: 'integer' }, scope: { type: 'string' } },
} as const;

const jwksOut = {
  type: 'object',
  required: ['keys'],
  properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: { type: 'string' } } } },
} as const;

const stringList = { type: 'array', items: { type: 'string' } } as const;
const metadataOut = {
  type: 'object',
  required: ['issuer', 'token_endpoint', 'jwks_uri'],
  properties: {
    issuer: { type: 'string' },
    token_endpoint: { type: 'string' },
    jwks_uri: { type: 'string' },
    grant_types_supported: stringList,
    token_endpoint_auth_methods_supported: stringList,
    token_endpoint_auth_signing_alg_values_supported: stringList,
    scopes_supported: stringList,
  },
} as const;

/** The JWKS as published: its keys are EC public keys, whose members are all strings. */
const publishedKeys = (jwks: { keys: JWK[] }) => jwks as { keys: Record<string, string>[] };

/** Form bodies on the token endpoint are small; anything larger is not a token request. */
const FORM_BODY_LIMIT = 4096;

/** The errors of RFC 6749 §5.2 this endpoint answers; each is also a code of the registry. */
type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_scope' | 'unsupported_grant_type';

/**
 * An error in the OAuth shape (`error`, `error_description`) and the API's (`code`, `detail`),
 * with the status the registry gives the code.
 */
function oauthError(reply: FastifyReply, error: OAuthErrorCode, description: string): FastifyReply {
  return reply
    .code(ERRORS[error])
    .header('cache-control', 'no-store')
    .type('application/json')
    .send({ error, error_description: description, code: error, detail: description });
}

/** Client id and secret from HTTP Basic (form-encoded, RFC 6749 §2.3.1), or null. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const unform = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

/** The token endpoint, in a scope of its own: form bodies are accepted there only. */
const tokenRoute =
  (oauth: OAuthService, auth: Auth): RoutePlugin =>
  async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    scope.post(
      '/oauth/token',
      {
        config: { access: 'public' },
        schema: { tags: ['oauth'], summary: 'Client credentials grant: a short-lived JWT access token', body: tokenIn, response: { 200: tokenOut } },
      },
      async (req, reply) => {
        const b = req.body ?? {};
        const basic = basicCredentials(req.headers.authorization);
        if (basic && (b.client_id !== undefined || b.client_secret !== undefined)) {
          return oauthError(reply, 'invalid_request', 'send the client credentials once: HTTP Basic or the body, not both');
        }
        if (b.grant_type !== 'client_credentials') {
          return b.grant_type === undefined
            ? oauthError(reply, 'invalid_request', 'grant_type is required')
            : oauthError(reply, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
        }
        const id = basic?.id ?? b.client_id ?? '';
        const secret = basic?.secret ?? b.client_secret ?? '';
        // Client secrets are guessed like tokens: the same throttle, before the secret is checked.
        const throttled = auth.refuseThrottledClient(req, reply, id);
        if (throttled) return throttled;
        try {
          const token = await oauth.issueToken(id, secret, b.scope);
          return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({ ...token });
        } catch (e: unknown) {
          if (!(e instanceof AppError) || (e.code !== 'invalid_client' && e.code !== 'invalid_scope')) throw e;
          if (e.code === 'invalid_client') auth.clientSecretFailed(req, id);
          if (e.code === 'invalid_client' && basic) reply.header('www-authenticate', 'Basic realm="switchboard"');
          return oauthError(reply, e.code, e.message);
        }
      },
    );
  };

export const oauthRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const oauth = deps.security.oauth;
    const issuer = () => deps.security.publicUrl().replace(/\/+$/, '');

    await app.register(tokenRoute(oauth, deps.auth));

    for (const url of ['/.well-known/jwks.json', '/oauth/jwks']) {
      app.get(
        url,
        { config: { access: 'public' }, schema: { tags: ['oauth'], summary: 'Public keys that sign access tokens (JWKS)', response: { 200: jwksOut } } },
        async (_req, reply) => reply.header('cache-control', 'public, max-age=60').send(publishedKeys(await oauth.jwks())),
      );
    }

    app.get(
      '/.well-known/oauth-authorization-server',
      { config: { access: 'public' }, schema: { tags: ['oauth'], summary: 'Authorisation server metadata (RFC 8414)', response: { 200: metadataOut } } },
      async () => ({
        issuer: issuer(),
        token_endpoint: issuer() + '/oauth/token',
        jwks_uri: issuer() + '/.well-known/jwks.json',
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256'],
        scopes_supported: ['admin', 'read', 'write', 'publish'],
      }),
    );
  };

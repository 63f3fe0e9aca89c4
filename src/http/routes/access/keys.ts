/** /api/v1/api-key and /api/v1/oauth: API keys, OAuth clients and signing keys (organisation admins only). */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import type { ApiKeyRecord, OAuthClientRecord } from '../../../storage/contract/auth.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf, timeParam } from '../common.js';

const iso = (ms: number): string => new Date(ms).toISOString();
/** A time that may be absent: omitted from the answer when null. */
const isoIfSet = (ms: number | null): string | undefined => (ms === null ? undefined : iso(ms));

const scopes = { type: 'array', items: { type: 'string', enum: ['admin', 'read', 'write', 'publish'] }, minItems: 1, maxItems: 4, uniqueItems: true } as const;
const name = { type: 'string', minLength: 1, maxLength: 256 } as const;
const appIdIn = { type: ['string', 'null'], minLength: 1, maxLength: 256 } as const;
const grantIn = <const Extra extends Record<string, object>>(extra: Extra) =>
  ({ type: 'object', required: ['name', 'scopes'], properties: { name, scopes, appId: appIdIn, ...extra } }) as const;

const credentialOut = <const Extra extends Record<string, object>>(extra: Extra) =>
  ({
    type: 'object',
    required: ['id', 'name', 'scopes', 'createdAt'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'array', items: { type: 'string' } },
      appId: { type: 'string' },
      createdAt: S.S.dateTime,
      revokedAt: S.S.dateTime,
      lastUsedAt: S.S.dateTime,
      ...extra,
    },
  }) as const;

const apiKeyOut = credentialOut({ prefix: { type: 'string' }, expiresAt: S.S.dateTime, key: { type: 'string' } });
const clientOut = credentialOut({ clientSecret: { type: 'string' } });
const keyParams = { type: 'object', required: ['key_id'], properties: { key_id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const clientParams = { type: 'object', required: ['client_id'], properties: { client_id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;

function apiKeyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    appId: k.appId ?? undefined,
    createdAt: iso(k.createdAt),
    expiresAt: isoIfSet(k.expiresAt),
    revokedAt: isoIfSet(k.revokedAt),
    lastUsedAt: isoIfSet(k.lastUsedAt),
  };
}

function clientView(c: OAuthClientRecord) {
  return {
    id: c.id,
    name: c.name,
    scopes: c.scopes,
    appId: c.appId ?? undefined,
    createdAt: iso(c.createdAt),
    revokedAt: isoIfSet(c.revokedAt),
    lastUsedAt: isoIfSet(c.lastUsedAt),
  };
}

export const keyRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const keys = deps.security.apiKeys;
    const oauth = deps.security.oauth;

    app.post(
      '/api/v1/api-key',
      {
        schema: {
          tags: ['api-key'],
          summary: 'Create an API key (the key is in this answer only)',
          body: grantIn({ expiresAt: { type: ['string', 'null'], format: 'date-time' } }),
          response: { 201: apiKeyOut },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const { record, key } = await keys.create({ name: b.name, scopes: b.scopes, appId: b.appId, expiresAt: timeParam(b.expiresAt, ['body', 'expiresAt']) ?? null });
        return reply.code(201).header('cache-control', 'no-store').send({ ...apiKeyView(record), key });
      },
    );

    app.get(
      '/api/v1/api-key',
      {
        schema: {
          tags: ['api-key'],
          querystring: { type: 'object', properties: { ...S.pageQuery, app_id: { type: 'string', minLength: 1, maxLength: 256 } } },
          response: { 200: S.listOf(apiKeyOut) },
        },
      },
      async (req) => {
        let appId = req.query.app_id;
        if (appId !== undefined) appId = (await deps.applications.find(appId))?.id ?? appId;
        return listOut(await keys.list({ ...pageOf(req.query), appId }), apiKeyView);
      },
    );

    app.get(
      '/api/v1/api-key/:key_id',
      { schema: { tags: ['api-key'], params: keyParams, response: { 200: apiKeyOut } } },
      async (req) => apiKeyView(await keys.get(req.params.key_id)),
    );

    app.delete(
      '/api/v1/api-key/:key_id',
      { schema: { tags: ['api-key'], summary: 'Revoke an API key', params: keyParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        await keys.revoke(req.params.key_id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/api/v1/oauth/client',
      { schema: { tags: ['oauth'], summary: 'Create an OAuth client (the secret is in this answer only)', body: grantIn({}), response: { 201: clientOut } } },
      async (req, reply) => {
        const { record, secret } = await oauth.createClient(req.body);
        return reply.code(201).header('cache-control', 'no-store').send({ ...clientView(record), clientSecret: secret });
      },
    );

    app.get(
      '/api/v1/oauth/client',
      { schema: { tags: ['oauth'], querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(clientOut) } } },
      async (req) => listOut(await oauth.listClients(pageOf(req.query)), clientView),
    );

    app.get(
      '/api/v1/oauth/client/:client_id',
      { schema: { tags: ['oauth'], params: clientParams, response: { 200: clientOut } } },
      async (req) => clientView(await oauth.getClient(req.params.client_id)),
    );

    app.delete(
      '/api/v1/oauth/client/:client_id',
      { schema: { tags: ['oauth'], summary: 'Revoke an OAuth client and every token it holds', params: clientParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        await oauth.revokeClient(req.params.client_id);
        return reply.code(204).send();
      },
    );

    const signingKeyOut = {
      type: 'object',
      required: ['kid', 'alg', 'createdAt'],
      properties: { kid: { type: 'string' }, alg: { type: 'string' }, createdAt: S.S.dateTime, retiredAt: S.S.dateTime },
    } as const;

    app.get(
      '/api/v1/oauth/signing-key',
      {
        schema: {
          tags: ['oauth'],
          summary: 'Token signing keys, newest first',
          response: { 200: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: signingKeyOut } } } },
        },
      },
      async () => ({
        data: (await oauth.signingKeys()).map((k) => ({ kid: k.kid, alg: k.alg, createdAt: iso(k.createdAt), retiredAt: isoIfSet(k.retiredAt) })),
      }),
    );

    app.post(
      '/api/v1/oauth/signing-key/rotate',
      { schema: { tags: ['oauth'], summary: 'Start signing with a new key; tokens signed before stay valid until they expire', response: { 201: { type: 'object', properties: { kid: { type: 'string' } } } } } },
      async (_req, reply) => reply.code(201).send(await oauth.rotateSigningKey()),
    );
  };

/**
 * /api/v1/app/{app_id}/integration: an application's integrations and their keys (the
 * `svix.integration` family). Listing and reading one (no key in it) need read access to the
 * application; creating, changing, deleting and anything touching a key hand out or revoke
 * credentials, so they need an organisation admin token. The keys act on their application only.
 */
import type { IntegrationRecord } from '../../../storage/contract/integrations.js';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { nameSchema } from '../../openapi.js';
import { iso, listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';

const flags = { type: ['array', 'null'], items: S.S.name256, maxItems: 100 } as const;

/** IntegrationIn and IntegrationUpdate. */
export const integrationIn = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 256 }, featureFlags: flags },
} as const;

export const integrationOut = {
  type: 'object',
  required: ['id', 'name', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    featureFlags: { type: 'array', items: { type: 'string' } },
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
  },
} as const;

export const integrationKeyOut = { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } as const;

nameSchema('IntegrationIn', integrationIn);
nameSchema('IntegrationOut', integrationOut);
nameSchema('IntegrationKeyOut', integrationKeyOut);

const integParams = {
  type: 'object',
  required: ['app_id', 'integ_id'],
  properties: { app_id: S.appParams.properties.app_id, integ_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

export function integrationOutOf(i: IntegrationRecord) {
  return { id: i.id, name: i.name, featureFlags: i.featureFlags ?? undefined, createdAt: iso(i.createdAt), updatedAt: iso(i.updatedAt) };
}

export const integrationRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.integrations;
    const config = { access: 'admin' } as const;
    const tags = ['integration'];

    app.get(
      '/api/v1/app/:app_id/integration',
      { schema: { tags, summary: 'List integrations', params: S.appParams, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(integrationOut) } } },
      async (req) => listOut(await svc.list(req.params.app_id, pageOf(req.query)), integrationOutOf),
    );

    app.post(
      '/api/v1/app/:app_id/integration',
      { config, schema: { tags, summary: 'Create an integration', params: S.appParams, body: integrationIn, response: { 201: integrationOut } } },
      async (req, reply) => reply.code(201).send(integrationOutOf(await svc.create(req.params.app_id, req.body))),
    );

    app.get(
      '/api/v1/app/:app_id/integration/:integ_id',
      { schema: { tags, summary: 'Get an integration', params: integParams, response: { 200: integrationOut } } },
      async (req) => integrationOutOf(await svc.get(req.params.app_id, req.params.integ_id)),
    );

    app.put(
      '/api/v1/app/:app_id/integration/:integ_id',
      { config, schema: { tags, summary: 'Update an integration', params: integParams, body: integrationIn, response: { 200: integrationOut } } },
      async (req) => integrationOutOf(await svc.update(req.params.app_id, req.params.integ_id, req.body)),
    );

    app.delete(
      '/api/v1/app/:app_id/integration/:integ_id',
      { config, schema: { tags, summary: 'Delete an integration (its key stops working)', params: integParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        await svc.delete(req.params.app_id, req.params.integ_id);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/app/:app_id/integration/:integ_id/key',
      { config, schema: { tags, summary: "Get an integration's key", params: integParams, response: { 200: integrationKeyOut } } },
      async (req) => ({ key: await svc.getKey(req.params.app_id, req.params.integ_id) }),
    );

    app.post(
      '/api/v1/app/:app_id/integration/:integ_id/key/rotate',
      { config, schema: { tags, summary: "Rotate an integration's key (the old key stops working at once)", params: integParams, response: { 200: integrationKeyOut } } },
      async (req) => ({ key: await svc.rotateKey(req.params.app_id, req.params.integ_id) }),
    );
  };

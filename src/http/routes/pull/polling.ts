/**
 * /api/v1/app/{app_id}/polling-endpoint: managing polling endpoints (Switchboard's own
 * routes), and /api/v1/auth/app/{app_id}/poller/{id}/token: their tokens (compatible).
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { nameSchema } from '../../openapi.js';
import { pageOf } from '../common.js';
import {
  apiTokenOut,
  apiTokenOutOf,
  pollingEndpointIn,
  pollingEndpointOut,
  pollingEndpointOutOf,
  pollingEndpointParams,
  tokenParams,
} from './polling-common.js';
import type { PollingEndpointBody } from './polling-common.js';

const rotateIn = {
  type: ['object', 'null'],
  properties: {
    expiry: { type: ['integer', 'null'], minimum: 1, maximum: 31_536_000 },
    oldTokenExpiry: { type: 'integer', minimum: 0, maximum: 86_400 },
  },
} as const;

nameSchema('RotatePollerTokenIn', rotateIn);

const input = (b: PollingEndpointBody) => ({ uid: b.uid, description: b.description, eventTypes: b.filterTypes, channels: b.channels, metadata: b.metadata });

export const pollingRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.pull.endpoints;
    const appOf = (id: string) => deps.applications.get(id);
    const tags = ['polling-endpoint'];

    app.get(
      '/api/v1/app/:app_id/polling-endpoint',
      {
        schema: { tags, summary: 'List polling endpoints', params: S.appParams, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(pollingEndpointOut) } },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return listOut(await svc.list(a.id, pageOf(req.query)), pollingEndpointOutOf);
      },
    );

    app.post(
      '/api/v1/app/:app_id/polling-endpoint',
      { schema: { tags, summary: 'Create a polling endpoint', params: S.appParams, body: pollingEndpointIn, response: { 201: pollingEndpointOut } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        return reply.code(201).send(pollingEndpointOutOf(await svc.create(a.id, input(req.body))));
      },
    );

    app.get(
      '/api/v1/app/:app_id/polling-endpoint/:polling_endpoint_id',
      { schema: { tags, summary: 'Get a polling endpoint', params: pollingEndpointParams, response: { 200: pollingEndpointOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return pollingEndpointOutOf(await svc.get(a.id, req.params.polling_endpoint_id));
      },
    );

    app.patch(
      '/api/v1/app/:app_id/polling-endpoint/:polling_endpoint_id',
      { schema: { tags, summary: 'Update a polling endpoint', params: pollingEndpointParams, body: pollingEndpointIn, response: { 200: pollingEndpointOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return pollingEndpointOutOf(await svc.patch(a.id, req.params.polling_endpoint_id, input(req.body)));
      },
    );

    app.delete(
      '/api/v1/app/:app_id/polling-endpoint/:polling_endpoint_id',
      { schema: { tags, summary: 'Delete a polling endpoint, its consumers and tokens', params: pollingEndpointParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        await svc.delete(a.id, req.params.polling_endpoint_id);
        return reply.code(204).send();
      },
    );

    // A token is a secret: reading one needs write access, and it outlives the credential that read it.
    app.get(
      '/api/v1/auth/app/:app_id/poller/:endpoint_id/token',
      {
        config: { access: 'app:secret' },
        schema: { tags: ['authentication'], summary: 'Get the current poller token', params: tokenParams, response: { 200: apiTokenOut } },
      },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return apiTokenOutOf(await svc.currentToken(await svc.get(a.id, req.params.endpoint_id)));
      },
    );

    app.post(
      '/api/v1/auth/app/:app_id/poller/:endpoint_id/token/rotate',
      {
        config: { access: 'app:secret' },
        schema: { tags: ['authentication'], summary: 'Rotate the poller token', params: tokenParams, body: rotateIn, response: { 201: apiTokenOut } },
      },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        const pe = await svc.get(a.id, req.params.endpoint_id);
        const t = await svc.rotateToken(pe, { expiry: req.body?.expiry, oldTokenExpiry: req.body?.oldTokenExpiry });
        return reply.code(201).send(apiTokenOutOf(t));
      },
    );
  };

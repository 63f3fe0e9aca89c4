/** /api/v1/operational-webhook/endpoint: the operator's receivers of operational events (admin only). */
import type { FromSchema } from 'json-schema-to-ts';
import type { OperationalEndpoint } from '../../../storage/contract/operational-webhooks.js';
import type { OperationalEndpointInput, OperationalWebhookService } from '../../../operations/operational-webhooks.js';
import { OPERATIONAL_EVENT_TYPES } from '../../../operations/operational-webhooks.js';
import { nameSchema } from '../../openapi.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';

const rate = { type: ['integer', 'null'], minimum: 0, maximum: 65535 } as const;
const secret = { type: ['string', 'null'], pattern: '^(whsec_)?[a-zA-Z0-9+/=]{32,100}$' } as const;
const filterTypes = { type: ['array', 'null'], items: { type: 'string', enum: [...OPERATIONAL_EVENT_TYPES] }, maxItems: 10 } as const;

const endpointProps = {
  url: { type: 'string', minLength: 1, maxLength: 65536 },
  uid: { ...S.S.uid, type: ['string', 'null'] },
  description: { type: 'string', maxLength: 65536 },
  disabled: { type: 'boolean' },
  filterTypes,
  rateLimit: rate,
  throttleRate: rate,
  metadata: S.S.metadata,
} as const;

export const operationalEndpointIn = {
  type: 'object',
  required: ['url'],
  properties: { ...endpointProps, secret },
} as const;

export const operationalEndpointUpdate = { type: 'object', required: ['url'], properties: endpointProps } as const;

export const operationalEndpointOut = {
  type: 'object',
  required: ['id', 'url', 'description', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    disabled: { type: 'boolean' },
    filterTypes: { type: 'array', items: { type: 'string' } },
    rateLimit: { type: 'integer' },
    throttleRate: { type: 'integer' },
    metadata: S.S.metadata,
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
  },
} as const;

nameSchema('OperationalWebhookEndpointIn', operationalEndpointIn);
nameSchema('OperationalWebhookEndpointUpdate', operationalEndpointUpdate);
nameSchema('OperationalWebhookEndpointOut', operationalEndpointOut);

const input = (b: FromSchema<typeof operationalEndpointIn>): OperationalEndpointInput => ({ ...b, throttleRate: b.rateLimit !== undefined ? b.rateLimit : b.throttleRate });

function endpointOut(e: OperationalEndpoint) {
  return {
    id: e.id,
    uid: e.uid ?? undefined,
    url: e.url,
    description: e.description,
    disabled: e.disabled,
    filterTypes: e.eventTypes ?? undefined,
    rateLimit: e.throttleRate ?? undefined,
    throttleRate: e.throttleRate ?? undefined,
    metadata: e.metadata,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

const params = { type: 'object', required: ['endpoint_id'], properties: { endpoint_id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const tags = ['operational-webhook'];
const noContent = { 204: { description: 'No content', type: 'null' } } as const;

export const operationalWebhookRoutes =
  (svc: OperationalWebhookService): RoutePlugin =>
  async (app) => {
    const base = '/api/v1/operational-webhook/endpoint';
    const config = { access: 'admin' } as const;

    app.get(
      base,
      { config, schema: { tags, summary: 'List operational webhook endpoints', querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(operationalEndpointOut) } } },
      async (req) => listOut(await svc.list(pageOf(req.query)), endpointOut),
    );

    app.post(
      base,
      { config, schema: { tags, summary: 'Create an operational webhook endpoint', body: operationalEndpointIn, response: { 201: operationalEndpointOut } } },
      async (req, reply) => reply.code(201).send(endpointOut(await svc.create(input(req.body)))),
    );

    app.get(
      `${base}/:endpoint_id`,
      { config, schema: { tags, summary: 'Get an operational webhook endpoint', params, response: { 200: operationalEndpointOut } } },
      async (req) => endpointOut(await svc.get(req.params.endpoint_id)),
    );

    app.put(
      `${base}/:endpoint_id`,
      { config, schema: { tags, summary: 'Update an operational webhook endpoint', params, body: operationalEndpointUpdate, response: { 200: operationalEndpointOut } } },
      async (req) => endpointOut(await svc.update(req.params.endpoint_id, input(req.body))),
    );

    app.delete(
      `${base}/:endpoint_id`,
      { config, schema: { tags, summary: 'Delete an operational webhook endpoint', params, response: noContent } },
      async (req, reply) => {
        await svc.delete(req.params.endpoint_id);
        return reply.code(204).send();
      },
    );

    app.get(
      `${base}/:endpoint_id/secret`,
      {
        config,
        schema: { tags, summary: 'Get the signing secret', params, response: { 200: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } } },
      },
      async (req) => ({ key: await svc.secret(req.params.endpoint_id) }),
    );

    app.post(
      `${base}/:endpoint_id/secret/rotate`,
      { config, schema: { tags, summary: 'Rotate the signing secret', params, body: { type: ['object', 'null'], properties: { key: secret } }, response: noContent } },
      async (req, reply) => {
        await svc.rotateSecret(req.params.endpoint_id, req.body?.key);
        return reply.code(204).send();
      },
    );

    app.get(
      `${base}/:endpoint_id/headers`,
      {
        config,
        schema: {
          tags,
          summary: 'Get the custom headers',
          params,
          response: {
            200: {
              type: 'object',
              required: ['headers', 'sensitive'],
              properties: { headers: { type: 'object', additionalProperties: { type: 'string' } }, sensitive: { type: 'array', items: { type: 'string' } } },
            },
          },
        },
      },
      async (req) => svc.headers(req.params.endpoint_id),
    );

    app.put(
      `${base}/:endpoint_id/headers`,
      { config, schema: { tags, summary: 'Set the custom headers', params, body: S.headersIn, response: noContent } },
      async (req, reply) => {
        await svc.setHeaders(req.params.endpoint_id, req.body.headers);
        return reply.code(204).send();
      },
    );
  };

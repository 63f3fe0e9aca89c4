/** /api/v1/connector: organisation-wide transformation templates (the `svix.connector` family). */
import { CONNECTOR_KINDS, CONNECTOR_PRODUCTS } from '../../../catalog/connectors.js';
import type { ConnectorRecord } from '../../../storage/contract/connectors.js';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { nameSchema } from '../../openapi.js';
import { iso, listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';

/** The organisation every connector belongs to: one per Switchboard. */
export const ORGANISATION_ID = 'org_switchboard';

const names = { type: ['array', 'null'], items: S.S.name256, maxItems: 1000 } as const;

const connectorProps = {
  name: { type: 'string', minLength: 1, maxLength: 256 },
  description: { type: 'string', maxLength: 65536 },
  instructions: { type: 'string', maxLength: 65536 },
  kind: { type: 'string', enum: CONNECTOR_KINDS },
  logo: { type: ['string', 'null'], maxLength: 65536 },
  transformation: { type: 'string', minLength: 1, maxLength: 51200 },
  featureFlags: names,
  allowedEventTypes: names,
} as const;

/** ConnectorIn. */
export const connectorIn = {
  type: 'object',
  required: ['name', 'transformation'],
  properties: {
    ...connectorProps,
    uid: { ...S.S.uid, type: ['string', 'null'] },
    productType: { type: ['string', 'null'], enum: [...CONNECTOR_PRODUCTS, null] },
  },
} as const;

/** ConnectorUpdate (PUT): the transformation is required. */
export const connectorUpdate = { type: 'object', required: ['transformation'], properties: connectorProps } as const;
/** ConnectorPatch. */
export const connectorPatch = { type: 'object', properties: connectorProps } as const;

export const connectorOut = {
  type: 'object',
  required: ['id', 'orgId', 'name', 'description', 'instructions', 'kind', 'productType', 'transformation', 'createdAt', 'updatedAt', 'transformationUpdatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: ['string', 'null'] },
    orgId: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    instructions: { type: 'string' },
    kind: { type: 'string' },
    logo: { type: ['string', 'null'] },
    productType: { type: 'string', enum: CONNECTOR_PRODUCTS },
    transformation: { type: 'string' },
    featureFlags: { type: ['array', 'null'], items: { type: 'string' } },
    allowedEventTypes: { type: ['array', 'null'], items: { type: 'string' } },
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
    transformationUpdatedAt: S.S.dateTime,
  },
} as const;

nameSchema('ConnectorIn', connectorIn);
nameSchema('ConnectorUpdate', connectorUpdate);
nameSchema('ConnectorPatch', connectorPatch);
nameSchema('ConnectorOut', connectorOut);

export function connectorOutOf(c: ConnectorRecord) {
  return {
    id: c.id,
    uid: c.uid,
    orgId: ORGANISATION_ID,
    name: c.name,
    description: c.description,
    instructions: c.instructions,
    kind: c.kind,
    logo: c.logo,
    productType: c.productType,
    transformation: c.transformation,
    featureFlags: c.featureFlags,
    allowedEventTypes: c.allowedEventTypes,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    transformationUpdatedAt: iso(c.transformationUpdatedAt),
  };
}

const connectorParams = { type: 'object', required: ['connector_id'], properties: { connector_id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;

export const connectorRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.connectors;
    const tags = ['connector'];

    app.get(
      '/api/v1/connector',
      {
        schema: {
          tags,
          summary: 'List connectors',
          querystring: { type: 'object', properties: { ...S.pageQuery, product_type: { type: 'string', enum: CONNECTOR_PRODUCTS } } },
          response: { 200: S.listOf(connectorOut) },
        },
      },
      async (req) => listOut(await svc.list({ ...pageOf(req.query), productType: req.query.product_type }), connectorOutOf),
    );

    app.post(
      '/api/v1/connector',
      { schema: { tags, summary: 'Create a connector (its code is checked)', body: connectorIn, response: { 201: connectorOut } } },
      async (req, reply) => reply.code(201).send(connectorOutOf(await svc.create(req.body))),
    );

    app.get(
      '/api/v1/connector/:connector_id',
      { schema: { tags, summary: 'Get a connector by id or uid', params: connectorParams, response: { 200: connectorOut } } },
      async (req) => connectorOutOf(await svc.get(req.params.connector_id)),
    );

    app.put(
      '/api/v1/connector/:connector_id',
      { schema: { tags, summary: 'Update a connector (fields left out are kept)', params: connectorParams, body: connectorUpdate, response: { 200: connectorOut } } },
      async (req) => connectorOutOf(await svc.change(req.params.connector_id, req.body)),
    );

    app.patch(
      '/api/v1/connector/:connector_id',
      { schema: { tags, summary: 'Patch a connector', params: connectorParams, body: connectorPatch, response: { 200: connectorOut } } },
      async (req) => connectorOutOf(await svc.change(req.params.connector_id, req.body)),
    );

    app.delete(
      '/api/v1/connector/:connector_id',
      { schema: { tags, summary: 'Delete a connector (endpoints made from it keep their transformation)', params: connectorParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        await svc.delete(req.params.connector_id);
        return reply.code(204).send();
      },
    );
  };

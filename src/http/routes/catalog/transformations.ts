/**
 * Endpoint transformations: `/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation`
 * (get, patch) and `.../transformation/simulate`.
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import type { EndpointTransformation } from '../../../domain/model.js';
import type { TransformSettings } from '../../../catalog/transformations.js';
import * as S from '../../schemas.js';

const epParams = {
  type: 'object',
  required: ['app_id', 'endpoint_id'],
  properties: { app_id: { type: 'string', minLength: 1, maxLength: 256 }, endpoint_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

const code = { type: 'string', minLength: 10, maxLength: 51200 } as const;
const variables = { type: ['object', 'null'], additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 100 } as const;

/** EndpointTransformationPatch (and IngestEndpointTransformationPatch). */
export const transformationPatch = {
  type: 'object',
  properties: { code: { ...code, type: ['string', 'null'] }, enabled: { type: 'boolean' }, variables },
} as const;

/** EndpointTransformationOut; the ingest shape is the same without `updatedAt`. */
export const transformationOut = {
  type: 'object',
  required: ['enabled'],
  properties: {
    code: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
    variables: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    updatedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const simulateIn = {
  type: 'object',
  required: ['code', 'eventType', 'payload'],
  properties: {
    code,
    eventType: S.S.name256,
    channels: { type: ['array', 'null'], items: { type: 'string', maxLength: 128 }, maxItems: 10 },
    payload: { type: 'object', additionalProperties: true },
    variables,
  },
} as const;

const simulateOut = {
  type: 'object',
  required: ['cancel', 'payload', 'url'],
  properties: {
    url: { type: 'string' },
    payload: { type: 'string' },
    method: { type: ['string', 'null'], enum: ['POST', 'PUT', 'PATCH', null] },
    cancel: { type: 'boolean' },
    /** Switchboard extensions: what the webhook would carry besides. */
    eventType: { type: 'string' },
    headers: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  },
} as const;

/** The output shape of a transformation; `updatedAt` only when one was ever saved. */
export function transformationOutOf(t: EndpointTransformation & { set: boolean }, withUpdatedAt: boolean) {
  return {
    code: t.code,
    enabled: t.enabled,
    variables: t.variables,
    ...(withUpdatedAt ? { updatedAt: t.set ? new Date(t.updatedAt).toISOString() : null } : {}),
  };
}

export const transformationRoutes =
  (deps: AppDeps, settings: TransformSettings): RoutePlugin =>
  async (app) => {
    const appOf = (id: string) => deps.applications.get(id);

    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/transformation',
      { schema: { tags: ['endpoint'], summary: 'Get the endpoint transformation', params: epParams, response: { 200: transformationOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        return transformationOutOf(await settings.get(a.id, req.params.endpoint_id), true);
      },
    );

    app.patch(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/transformation',
      { schema: { tags: ['endpoint'], summary: 'Set the endpoint transformation (code checked when saved)', params: epParams, body: transformationPatch, response: { 204: S.noContent } } },
      async (req, reply) => {
        const a = await appOf(req.params.app_id);
        await settings.patch(a.id, req.params.endpoint_id, req.body);
        return reply.code(204).send();
      },
    );

    app.post(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/transformation/simulate',
      { schema: { tags: ['endpoint'], summary: 'Run transformation code on an example payload (nothing is sent or saved)', params: epParams, body: simulateIn, response: { 200: simulateOut } } },
      async (req) => {
        const a = await appOf(req.params.app_id);
        const ep = await deps.endpoints.get(a.id, req.params.endpoint_id);
        return settings.transforms.simulate(ep, req.body);
      },
    );
  };

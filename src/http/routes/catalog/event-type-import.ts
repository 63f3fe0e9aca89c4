/** POST /api/v1/event-type/import/openapi: event types from an OpenAPI document's webhooks (organisation admins). */
import { importOpenApi } from '../../../catalog/event-type-import.js';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';

const importIn = {
  type: 'object',
  properties: {
    spec: { type: ['object', 'null'], additionalProperties: true, description: 'The OpenAPI document' },
    specRaw: { type: ['string', 'null'], maxLength: 5_000_000, description: 'The OpenAPI document as JSON or YAML text' },
    dryRun: { type: 'boolean', default: false, description: 'Report what would change, change nothing' },
    replaceAll: { type: 'boolean', default: false, description: 'Archive the event types the document does not describe' },
  },
} as const;

const eventTypeFromOpenApi = {
  type: 'object',
  required: ['name', 'description', 'deprecated'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    deprecated: { type: 'boolean' },
    schemas: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

const importOut = {
  type: 'object',
  required: ['data'],
  properties: {
    data: {
      type: 'object',
      required: ['modified'],
      properties: {
        modified: { type: 'array', items: { type: 'string' } },
        to_modify: { type: ['array', 'null'], items: eventTypeFromOpenApi, description: 'On a dry run, the event types that would be written (snake_case, as in the reference API)' },
      },
    },
  },
} as const;

export const eventTypeImportRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    app.post(
      '/api/v1/event-type/import/openapi',
      {
        schema: {
          tags: ['event-type'],
          summary: 'Creates or updates event types from the webhooks of an OpenAPI document',
          body: importIn,
          response: { 200: importOut },
        },
      },
      async (req) => {
        const out = await importOpenApi(deps.eventTypes, req.body ?? {});
        return { data: { modified: out.modified, ...(out.toModify ? { to_modify: out.toModify.map((e) => ({ name: e.name, description: e.description, deprecated: e.deprecated, schemas: e.schemas })) } : {}) } };
      },
    );
  };

/**
 * /api/v1/environment/export and /import: the organisation's event types, connectors and
 * settings as one document (the `svix.environment` family). An import answers what it
 * changed, a Switchboard extension the SDK ignores.
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { nameSchema } from '../../openapi.js';
import { eventTypeOut, iso } from '../../serialize.js';
import * as S from '../../schemas.js';
import { connectorIn, connectorOut, connectorOutOf } from './connectors.js';

/** EventTypeIn as an environment document holds it (with the SDK's list of feature flags and group name). */
const environmentEventType = {
  type: 'object',
  required: ['name', 'description'],
  properties: {
    ...S.eventTypeIn.properties,
    featureFlags: { type: ['array', 'null'], items: S.S.name256, maxItems: 100 },
    groupName: { type: ['string', 'null'], maxLength: 256 },
  },
} as const;

/** EnvironmentIn. */
export const environmentIn = {
  type: ['object', 'null'],
  properties: {
    eventTypes: { type: ['array', 'null'], items: environmentEventType, maxItems: 10000 },
    connectors: { type: ['array', 'null'], items: connectorIn, maxItems: 10000 },
    // Checked by the service: known settings by type, unknown ones reported as ignored.
    settings: { type: ['object', 'null'] },
  },
} as const;

/** The settings Switchboard keeps (catalog/environment-settings.ts). */
export const environmentSettingsOut = {
  type: 'object',
  required: ['enforceHttps'],
  properties: { enforceHttps: { type: 'boolean' } },
} as const;

/** EnvironmentOut. */
export const environmentOut = {
  type: 'object',
  required: ['createdAt', 'eventTypes', 'connectors', 'settings'],
  properties: {
    createdAt: S.S.dateTime,
    version: { type: 'integer' },
    eventTypes: { type: 'array', items: S.eventTypeOut },
    connectors: { type: 'array', items: connectorOut },
    settings: environmentSettingsOut,
  },
} as const;

const changes = {
  type: 'object',
  required: ['created', 'updated', 'unchanged'],
  properties: { created: { type: 'array', items: { type: 'string' } }, updated: { type: 'array', items: { type: 'string' } }, unchanged: { type: 'integer' } },
} as const;

const settingChanges = {
  type: 'object',
  required: ['updated', 'unchanged'],
  properties: { updated: { type: 'array', items: { type: 'string' } }, unchanged: { type: 'integer' } },
} as const;

/**
 * What an import changed: event type names and connector ids created and updated, setting
 * names updated, how many of each were already equal, and what it did not keep.
 */
export const environmentImportOut = {
  type: 'object',
  required: ['eventTypes', 'connectors', 'settings', 'ignored'],
  properties: { eventTypes: changes, connectors: changes, settings: settingChanges, ignored: { type: 'array', items: { type: 'string' } } },
} as const;

nameSchema('EnvironmentIn', environmentIn);
nameSchema('EnvironmentOut', environmentOut);
nameSchema('EnvironmentSettingsOut', environmentSettingsOut);
nameSchema('EnvironmentImportOut', environmentImportOut);

export const environmentRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.environment;
    const tags = ['environment'];

    app.post(
      '/api/v1/environment/export',
      { schema: { tags, summary: 'Export event types (with schemas), connectors and settings', response: { 200: environmentOut } } },
      async () => {
        const e = await svc.export();
        return {
          createdAt: iso(e.createdAt),
          version: e.version,
          eventTypes: e.eventTypes.map(eventTypeOut),
          connectors: e.connectors.map(connectorOutOf),
          settings: { ...e.settings },
        };
      },
    );

    app.post(
      '/api/v1/environment/import',
      {
        schema: {
          tags,
          summary: 'Import event types, connectors and settings: all checked first, then written in one transaction; answers what changed',
          body: environmentIn,
          response: { 200: environmentImportOut },
        },
      },
      async (req) => ({ ...(await svc.import(req.body ?? {})) }),
    );
  };

/** Maps rows of the integrations and connectors tables (migration 0033) to records, for both stores. */
import type { SecretBox } from '../../security/crypto.js';
import type { ConnectorProduct, ConnectorRecord } from '../contract/connectors.js';
import type { IntegrationRecord } from '../contract/integrations.js';
import type { Row } from './rows.js';

const list = (v: unknown): string[] | null => (v === null || v === undefined ? null : (JSON.parse(v as string) as string[]));

/** An integration row; its key is opened with `box`. */
export function toIntegration(r: Row, box: SecretBox): IntegrationRecord {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    name: r.name as string,
    featureFlags: list(r.feature_flags),
    keyHash: r.key_hash as string,
    key: box.open(r.sealed_key as string),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function toConnector(r: Row): ConnectorRecord {
  return {
    id: r.id as string,
    uid: (r.uid as string | null) ?? null,
    name: r.name as string,
    description: r.description as string,
    instructions: r.instructions as string,
    kind: r.kind as string,
    logo: (r.logo as string | null) ?? null,
    productType: r.product_type as ConnectorProduct,
    transformation: r.transformation as string,
    featureFlags: list(r.feature_flags),
    allowedEventTypes: list(r.allowed_event_types),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    transformationUpdatedAt: Number(r.transformation_updated_at),
  };
}

/** The column values of a connector, in the order of CONNECTOR_COLUMNS. */
export function connectorValues(c: ConnectorRecord): unknown[] {
  const j = (v: string[] | null): string | null => (v === null ? null : JSON.stringify(v));
  return [c.id, c.uid, c.name, c.description, c.instructions, c.kind, c.logo, c.productType, c.transformation, j(c.featureFlags), j(c.allowedEventTypes), c.createdAt, c.updatedAt, c.transformationUpdatedAt];
}

export const CONNECTOR_COLUMNS = [
  'id',
  'uid',
  'name',
  'description',
  'instructions',
  'kind',
  'logo',
  'product_type',
  'transformation',
  'feature_flags',
  'allowed_event_types',
  'created_at',
  'updated_at',
  'transformation_updated_at',
] as const;

/**
 * Connectors: organisation-wide transformation templates (the `svix.connector` family).
 * Their code is checked like an endpoint transformation's before it is saved, and an
 * endpoint created with `connectorId` starts with the connector's transformation, enabled.
 */
import type { Clock } from '../domain/clock.js';
import { invalid, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { checkUid } from '../domain/uid.js';
import type { EndpointTransformation } from '../domain/model.js';
import type { ConnectorProduct, ConnectorRecord } from '../storage/contract/connectors.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';

/** The SDK's ConnectorKind values. */
export const CONNECTOR_KINDS = [
  'Custom',
  'AgenticCommerceProtocol',
  'CloseCRM',
  'CustomerIO',
  'Discord',
  'Hubspot',
  'Inngest',
  'Loops',
  'Otel',
  'Resend',
  'Salesforce',
  'Segment',
  'Sendgrid',
  'Slack',
  'Teams',
  'TriggerDev',
  'Windmill',
  'Zapier',
] as const;
export const CONNECTOR_PRODUCTS = ['Dispatch', 'Stream'] as const;

/** ConnectorIn / ConnectorUpdate / ConnectorPatch: what a caller may set. */
export interface ConnectorInput {
  name?: string | undefined;
  uid?: string | null | undefined;
  description?: string | undefined;
  instructions?: string | undefined;
  kind?: string | undefined;
  logo?: string | null | undefined;
  productType?: ConnectorProduct | null | undefined;
  transformation?: string | undefined;
  featureFlags?: string[] | null | undefined;
  allowedEventTypes?: string[] | null | undefined;
}

/** Checks transformation code (the transformation runtime's check); throws a 422 at `loc`. */
export type CodeCheck = (code: string, loc: (string | number)[]) => Promise<void>;

/** A list as stored: duplicates dropped, an empty list kept as none. */
const listOf = (v: string[] | null | undefined): string[] | null => (v && v.length > 0 ? [...new Set(v)] : null);

export class ConnectorService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Absent when transformations are off: code is then kept unchecked. */
    private readonly checkCode?: CodeCheck,
  ) {}

  /** Checks what cannot be said in the request schema: uid shape, code that compiles. */
  async validate(input: ConnectorInput, loc: (string | number)[] = ['body']): Promise<void> {
    checkUid(input.uid, [...loc, 'uid']);
    if (input.kind !== undefined && !(CONNECTOR_KINDS as readonly string[]).includes(input.kind)) {
      throw invalid([...loc, 'kind'], `unknown connector kind '${input.kind}'; one of ${CONNECTOR_KINDS.join(', ')}`);
    }
    if (input.transformation !== undefined) {
      if (input.transformation.trim() === '') throw invalid([...loc, 'transformation'], 'the transformation code is empty');
      await this.checkCode?.(input.transformation, [...loc, 'transformation']);
    }
  }

  /** A new record from ConnectorIn (validated already); nothing is saved. */
  build(input: ConnectorInput & { name: string; transformation: string }, now: number): ConnectorRecord {
    return {
      id: newId('connector', now),
      uid: input.uid ?? null,
      name: input.name,
      description: input.description ?? '',
      instructions: input.instructions ?? '',
      kind: input.kind ?? 'Custom',
      logo: input.logo ?? null,
      productType: input.productType ?? 'Dispatch',
      transformation: input.transformation,
      featureFlags: listOf(input.featureFlags),
      allowedEventTypes: listOf(input.allowedEventTypes),
      createdAt: now,
      updatedAt: now,
      transformationUpdatedAt: now,
    };
  }

  /** `c` with the fields `input` sends changed (unchanged fields kept); updatedAt left as it was. */
  merged(c: ConnectorRecord, input: ConnectorInput, now: number): ConnectorRecord {
    const next: ConnectorRecord = { ...c };
    if (input.name !== undefined) next.name = input.name;
    if (input.uid !== undefined) next.uid = input.uid;
    if (input.description !== undefined) next.description = input.description;
    if (input.instructions !== undefined) next.instructions = input.instructions;
    if (input.kind !== undefined) next.kind = input.kind;
    if (input.logo !== undefined) next.logo = input.logo;
    if (input.productType !== undefined && input.productType !== null) next.productType = input.productType;
    if (input.featureFlags !== undefined) next.featureFlags = listOf(input.featureFlags);
    if (input.allowedEventTypes !== undefined) next.allowedEventTypes = listOf(input.allowedEventTypes);
    if (input.transformation !== undefined && input.transformation !== c.transformation) {
      next.transformation = input.transformation;
      next.transformationUpdatedAt = now;
    }
    return next;
  }

  async create(input: ConnectorInput & { name: string; transformation: string }): Promise<ConnectorRecord> {
    await this.validate(input);
    const c = this.build(input, this.clock.now());
    await this.store.connectors.create(c);
    return c;
  }

  async get(idOrUid: string): Promise<ConnectorRecord> {
    const c = await this.store.connectors.get(idOrUid);
    if (!c) throw notFound('Connector');
    return c;
  }

  list(q: PageQuery & { productType?: ConnectorProduct | undefined }): Promise<Page<ConnectorRecord>> {
    return this.store.connectors.list(q);
  }

  /** PUT and PATCH: the fields sent replace the stored ones; the others stay. */
  async change(idOrUid: string, input: ConnectorInput): Promise<ConnectorRecord> {
    await this.validate(input);
    const now = this.clock.now();
    const c = { ...this.merged(await this.get(idOrUid), input, now), updatedAt: now };
    await this.store.connectors.update(c);
    return c;
  }

  async delete(idOrUid: string): Promise<void> {
    const c = await this.get(idOrUid);
    if (!(await this.store.connectors.delete(c.id))) throw notFound('Connector');
  }

  /**
   * What an endpoint created from a connector starts with: the connector's transformation
   * (enabled) and event types within the connector's allowed ones (all of them if none are asked).
   */
  async endpointStart(idOrUid: string, eventTypes: string[] | null | undefined): Promise<{ transformation: EndpointTransformation; eventTypes: string[] | null }> {
    const c = await this.store.connectors.get(idOrUid);
    if (!c) throw invalid(['body', 'connectorId'], `no connector '${idOrUid}'`);
    const asked = eventTypes && eventTypes.length > 0 ? eventTypes : null;
    const allowed = c.allowedEventTypes;
    if (allowed && asked) {
      const outside = asked.filter((t) => !allowed.includes(t));
      if (outside.length > 0) throw invalid(['body', 'filterTypes'], `the connector allows only ${allowed.join(', ')}; not ${outside.join(', ')}`);
    }
    return {
      transformation: { code: c.transformation, enabled: true, variables: null, updatedAt: this.clock.now() },
      eventTypes: asked ?? allowed,
    };
  }
}

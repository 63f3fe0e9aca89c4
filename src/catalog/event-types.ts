/** Use cases for the event-type catalogue. */
import type { Clock } from '../domain/clock.js';
import { conflict, notFound } from '../domain/errors.js';
import type { EventType } from '../domain/model.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';

export interface EventTypeInput {
  description: string;
  archived?: boolean | undefined;
  deprecated?: boolean | undefined;
  featureFlag?: string | null | undefined;
  schemas?: Record<string, unknown> | null | undefined;
}

export class EventTypeService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(name: string, input: EventTypeInput): Promise<EventType> {
    if (await this.store.getEventType(name)) throw conflict('an event type with this name already exists');
    const now = this.clock.now();
    const et: EventType = {
      name,
      description: input.description,
      archived: input.archived ?? false,
      deprecated: input.deprecated ?? false,
      featureFlag: input.featureFlag ?? null,
      schemas: input.schemas ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createEventType(et);
    return et;
  }

  async get(name: string): Promise<EventType> {
    const et = await this.store.getEventType(name);
    if (!et) throw notFound('Event type');
    return et;
  }

  list(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
    return this.store.listEventTypes(q);
  }

  /** PUT: replaces the event type, or creates it. */
  async upsert(name: string, input: EventTypeInput): Promise<{ et: EventType; created: boolean }> {
    const existing = await this.store.getEventType(name);
    if (!existing) return { et: await this.create(name, input), created: true };
    const et: EventType = {
      ...existing,
      description: input.description,
      archived: input.archived ?? false,
      deprecated: input.deprecated ?? false,
      featureFlag: input.featureFlag ?? null,
      schemas: input.schemas ?? null,
      updatedAt: this.clock.now(),
    };
    await this.store.updateEventType(et);
    return { et, created: false };
  }

  async patch(name: string, patch: Partial<EventTypeInput>): Promise<EventType> {
    const existing = await this.get(name);
    const et: EventType = { ...existing, updatedAt: this.clock.now() };
    if (patch.description !== undefined) et.description = patch.description;
    if (patch.archived !== undefined) et.archived = patch.archived;
    if (patch.deprecated !== undefined) et.deprecated = patch.deprecated;
    if (patch.featureFlag !== undefined) et.featureFlag = patch.featureFlag;
    if (patch.schemas !== undefined) et.schemas = patch.schemas;
    await this.store.updateEventType(et);
    return et;
  }

  /** Archives the event type; with `expunge`, deletes it for good. */
  async delete(name: string, expunge: boolean): Promise<void> {
    const et = await this.get(name);
    if (expunge) await this.store.deleteEventType(name);
    else await this.store.updateEventType({ ...et, archived: true, updatedAt: this.clock.now() });
  }

  /** An example payload for the event type: the first example of its newest schema. */
  async example(name: string): Promise<Record<string, unknown> | null> {
    if (name === 'svix.ping' || name === 'switchboard.ping') return { success: true };
    const et = await this.get(name);
    const versions = Object.keys(et.schemas ?? {}).sort();
    const newest = versions.length > 0 ? (et.schemas![versions[versions.length - 1]!] as { examples?: unknown[]; example?: unknown }) : undefined;
    const ex = newest?.examples?.[0] ?? newest?.example;
    return ex && typeof ex === 'object' && !Array.isArray(ex) ? (ex as Record<string, unknown>) : null;
  }
}

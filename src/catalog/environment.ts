/**
 * Environment export and import (the `svix.environment` family): the organisation's event
 * types (with their schemas), connectors and settings as one document. An import checks the
 * whole document first and writes it in one transaction, or not at all; objects already equal
 * to the document are left alone, so importing the same document twice changes nothing the
 * second time. It reports what it created, updated and left unchanged, and the settings it
 * does not keep.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../domain/clock.js';
import { invalid } from '../domain/errors.js';
import type { EventType } from '../domain/model.js';
import type { ConnectorRecord, EnvironmentWrite } from '../storage/contract/connectors.js';
import type { Store } from '../storage/contract/store.js';
import type { ConnectorInput, ConnectorService } from './connectors.js';
import type { EventTypeInput } from './event-types.js';
import { checkSettings, environmentSettings } from './environment-settings.js';
import type { EnvironmentSettings } from './environment-settings.js';

/** The version of the export document. */
export const ENVIRONMENT_VERSION = 1;

/** EventTypeIn as an import document holds it. */
export interface EnvironmentEventType extends EventTypeInput {
  name: string;
  /** The SDK's list form; Switchboard keeps one flag per event type. */
  featureFlags?: string[] | null | undefined;
}

/** EnvironmentIn. */
export interface EnvironmentDocument {
  eventTypes?: EnvironmentEventType[] | null | undefined;
  connectors?: (ConnectorInput & { name: string; transformation: string })[] | null | undefined;
  settings?: unknown;
}

export interface EnvironmentExport {
  createdAt: number;
  version: number;
  eventTypes: EventType[];
  connectors: ConnectorRecord[];
  settings: EnvironmentSettings;
}

/** What an import changed, by kind: names (event types) or ids (connectors). */
export interface ImportReport {
  eventTypes: { created: string[]; updated: string[]; unchanged: number };
  connectors: { created: string[]; updated: string[]; unchanged: number };
  /** Settings by name: changed, and how many the document left as they were. */
  settings: { updated: string[]; unchanged: number };
  /** Parts of the document Switchboard does not keep: settings it has no such setting for (`settings.<name>`). */
  ignored: string[];
}

/** Rows read per page while exporting. */
const EXPORT_PAGE = 250;

export class EnvironmentService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly connectors: ConnectorService,
  ) {}

  async export(): Promise<EnvironmentExport> {
    const eventTypes: EventType[] = [];
    let iterator: string | undefined;
    for (;;) {
      const page = await this.store.listEventTypes({ limit: EXPORT_PAGE, iterator, includeArchived: true });
      eventTypes.push(...page.data);
      if (page.done || page.iterator === null) break;
      iterator = page.iterator;
    }
    return {
      createdAt: this.clock.now(),
      version: ENVIRONMENT_VERSION,
      eventTypes,
      connectors: await this.store.connectors.all(),
      settings: await environmentSettings(this.store),
    };
  }

  /** Checks the whole document, then writes what differs in one transaction. */
  async import(doc: EnvironmentDocument): Promise<ImportReport> {
    const now = this.clock.now();
    const report: ImportReport = {
      eventTypes: { created: [], updated: [], unchanged: 0 },
      connectors: { created: [], updated: [], unchanged: 0 },
      settings: { updated: [], unchanged: 0 },
      ignored: [],
    };
    const write: EnvironmentWrite = { createEventTypes: [], updateEventTypes: [], createConnectors: [], updateConnectors: [] };

    // Settings: absent or null leaves them as they are; an object is the whole of them.
    if (doc.settings !== undefined && doc.settings !== null) {
      const wanted = checkSettings(doc.settings, ['body', 'settings']);
      report.ignored.push(...wanted.ignored.map((name) => `settings.${name}`));
      const current = await environmentSettings(this.store);
      const values: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(wanted.settings)) {
        if (current[name as keyof EnvironmentSettings] === value) report.settings.unchanged++;
        else {
          values[name] = value;
          report.settings.updated.push(name);
        }
      }
      if (report.settings.updated.length > 0) write.settings = { values, at: now };
    }

    const names = new Set<string>();
    for (const [i, input] of (doc.eventTypes ?? []).entries()) {
      const loc = ['body', 'eventTypes', i];
      if (names.has(input.name)) throw invalid([...loc, 'name'], `event type '${input.name}' appears twice in the document`);
      names.add(input.name);
      const wanted = this.eventTypeFields(input, loc);
      const existing = await this.store.getEventType(input.name);
      if (!existing) {
        write.createEventTypes.push({ name: input.name, ...wanted, createdAt: now, updatedAt: now });
        report.eventTypes.created.push(input.name);
      } else if (isDeepStrictEqual({ ...existing, createdAt: 0, updatedAt: 0 }, { name: input.name, ...wanted, createdAt: 0, updatedAt: 0 })) {
        report.eventTypes.unchanged++;
      } else {
        write.updateEventTypes.push({ ...existing, ...wanted, updatedAt: now });
        report.eventTypes.updated.push(input.name);
      }
    }

    const stored = await this.store.connectors.all();
    const claimed = new Set<string>();
    const uids = new Set<string>();
    for (const [i, input] of (doc.connectors ?? []).entries()) {
      const loc = ['body', 'connectors', i];
      await this.connectors.validate(input, loc);
      if (input.uid) {
        if (uids.has(input.uid)) throw invalid([...loc, 'uid'], `connector uid '${input.uid}' appears twice in the document`);
        uids.add(input.uid);
      }
      // Matched by uid; a connector without one, by name among those without a uid.
      const match = stored.find((c) => !claimed.has(c.id) && (input.uid ? c.uid === input.uid : c.uid === null && c.name === input.name));
      if (!match) {
        write.createConnectors.push(this.connectors.build(input, now));
        continue;
      }
      claimed.add(match.id);
      // Fields the document leaves out take their defaults, as on create: the document is the whole connector.
      const next = this.connectors.merged(match, this.connectors.build(input, now), now);
      if (isDeepStrictEqual(next, match)) report.connectors.unchanged++;
      else {
        write.updateConnectors.push({ ...next, updatedAt: now });
        report.connectors.updated.push(match.id);
      }
    }

    // Ids made in one millisecond sort at random: handed out sorted, new connectors list in the document's order.
    const ids = write.createConnectors.map((c) => c.id).sort();
    write.createConnectors.forEach((c, n) => (c.id = ids[n]!));
    report.connectors.created = ids;
    const changes =
      write.createEventTypes.length + write.updateEventTypes.length + write.createConnectors.length + write.updateConnectors.length + report.settings.updated.length;
    if (changes > 0) await this.store.connectors.applyEnvironment(write);
    return report;
  }

  /** The stored fields of an imported event type. */
  private eventTypeFields(input: EnvironmentEventType, loc: (string | number)[]): Omit<EventType, 'name' | 'createdAt' | 'updatedAt'> {
    const flags = input.featureFlags ?? [];
    if (flags.length > 1) throw invalid([...loc, 'featureFlags'], 'Switchboard keeps one feature flag per event type');
    if (input.featureFlag && flags.length === 1 && flags[0] !== input.featureFlag) {
      throw invalid([...loc, 'featureFlags'], 'featureFlag and featureFlags name different flags');
    }
    return {
      description: input.description,
      archived: input.archived ?? false,
      deprecated: input.deprecated ?? false,
      featureFlag: input.featureFlag ?? flags[0] ?? null,
      schemas: input.schemas ?? null,
    };
  }
}

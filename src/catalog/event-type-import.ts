/**
 * Importing event types from an OpenAPI document's webhooks: each becomes an event type,
 * created or replaced (description, deprecated, schemas, archived no more); with
 * `replaceAll`, event types the document does not describe are archived. Idempotent: an
 * event type already as the document says is left alone and not reported. `dryRun` reports
 * what would change without changing it.
 */
import { AppError } from '../domain/errors.js';
import type { EventType } from '../domain/model.js';
import type { EventTypeService } from './event-types.js';
import { eventTypesFromOpenApi, parseDocument } from './openapi-import.js';
import type { ImportedEventType } from './openapi-import.js';

export interface OpenApiImportInput {
  /** The document as an object, or as JSON or YAML text. */
  spec?: Record<string, unknown> | null | undefined;
  specRaw?: string | null | undefined;
  dryRun?: boolean | undefined;
  replaceAll?: boolean | undefined;
}

export interface OpenApiImportOutcome {
  /** Names of the event types created, changed or archived (or that would be, on a dry run). */
  modified: string[];
  /** On a dry run, the event types the document describes that would be written. */
  toModify: ImportedEventType[] | null;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function unchanged(et: EventType, want: ImportedEventType): boolean {
  return !et.archived && et.description === want.description && et.deprecated === want.deprecated && same(et.schemas, want.schemas);
}

export async function importOpenApi(eventTypes: EventTypeService, input: OpenApiImportInput): Promise<OpenApiImportOutcome> {
  if ((input.spec ? 1 : 0) + (input.specRaw ? 1 : 0) !== 1) throw new AppError('bad_request', 'give the document in exactly one of spec (an object) and specRaw (JSON or YAML text)');
  let doc: Record<string, unknown>;
  try {
    doc = input.spec ? parseDocument(JSON.stringify(input.spec)) : parseDocument(input.specRaw!);
  } catch (e: unknown) {
    throw new AppError('bad_request', (e as Error).message);
  }
  const found = eventTypesFromOpenApi(doc);
  if (found.skipped.length > 0) {
    throw new AppError('bad_request', 'webhooks that cannot be imported: ' + found.skipped.map((s) => `${s.webhook}: ${s.reason}`).join('; '));
  }
  if (found.eventTypes.length === 0) throw new AppError('bad_request', 'the document describes no webhooks (no "webhooks" or "x-webhooks")');

  const existing = new Map<string, EventType>();
  for (let iterator: string | undefined; ; ) {
    const page = await eventTypes.list({ limit: 250, iterator, includeArchived: true });
    for (const et of page.data) existing.set(et.name, et);
    if (page.done || !page.iterator) break;
    iterator = page.iterator;
  }
  const writes = found.eventTypes.filter((want) => {
    const et = existing.get(want.name);
    return !et || !unchanged(et, want);
  });
  const wanted = new Set(found.eventTypes.map((e) => e.name));
  const archives = input.replaceAll ? [...existing.values()].filter((et) => !et.archived && !wanted.has(et.name)) : [];
  const modified = [...writes.map((e) => e.name), ...archives.map((e) => e.name)];
  if (input.dryRun) return { modified, toModify: writes };
  for (const e of writes) {
    const et = existing.get(e.name);
    await eventTypes.upsert(e.name, { description: e.description, deprecated: e.deprecated, schemas: e.schemas, featureFlag: et?.featureFlag ?? null, archived: false });
  }
  for (const et of archives) await eventTypes.patch(et.name, { archived: true });
  return { modified, toModify: null };
}

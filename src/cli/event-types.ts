/** `switchboard event-type ...`: event types, and their import from an OpenAPI document. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { seg } from './client.js';
import { apiCommand, clientOf, collect, jsonObjectArg, jsonOf, maxOf, readStdin, withPaging } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { eventTypesFromOpenApi, parseDocument } from '../catalog/openapi-import.js';
import { print, record, stdio, table } from './output.js';
import type { Io } from './output.js';
import { ProgressBar } from './progress.js';

interface EventTypeOut {
  name: string;
  description: string;
  archived?: boolean;
  deprecated: boolean;
  featureFlag?: string;
  schemas?: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

const columns = [
  { header: 'name', value: (e: EventTypeOut) => e.name },
  { header: 'description', value: (e: EventTypeOut) => e.description, max: 50 },
  { header: 'archived', value: (e: EventTypeOut) => (e.archived ? 'yes' : '') },
  { header: 'deprecated', value: (e: EventTypeOut) => (e.deprecated ? 'yes' : '') },
  { header: 'updated', value: (e: EventTypeOut) => e.updatedAt },
];

interface Flags {
  description?: string;
  schema?: string;
  featureFlag?: string;
  archived?: boolean;
  deprecated?: boolean;
}

async function bodyOf(o: Flags): Promise<Record<string, unknown>> {
  return {
    description: o.description,
    schemas: o.schema === undefined ? undefined : { '1': await jsonObjectArg(o.schema, '--schema') },
    featureFlag: o.featureFlag,
    archived: o.archived,
    deprecated: o.deprecated,
  };
}

const flags = (c: Command): Command =>
  c
    .option('--schema <json>', 'JSON schema of the payload (inline, @file or - for stdin)')
    .option('--feature-flag <flag>', 'only visible to portal users with this flag')
    .option('--deprecated', 'mark it deprecated')
    .option('--archived', 'archive it (hidden from lists unless asked for)');

/** Reads a document from a path, an http(s) URL or `-` (standard input). */
async function readSource(source: string): Promise<string> {
  if (source === '-') return readStdin();
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e: unknown) {
      throw new CliError(`cannot fetch ${source}: ${(e as Error).message}`, EXIT.unreachable);
    }
    if (!res.ok) throw new CliError(`cannot fetch ${source}: HTTP ${res.status}`, EXIT.error);
    return res.text();
  }
  try {
    return readFileSync(source, 'utf8');
  } catch (e: unknown) {
    throw new CliError(`cannot read ${source}: ${(e as Error).message}`, EXIT.usage);
  }
}

/** The `event-type` command and its subcommands. */
export function eventTypesCommand(io: Io = stdio): Command {
  const cmd = new Command('event-type').alias('event-types').description('manage event types and their JSON schemas');

  withPaging(apiCommand(cmd, 'list', 'list event types'))
    .option('--include-archived', 'include archived event types')
    .action(async (o: { limit?: number; all?: boolean; includeArchived?: boolean }, c: Command) => {
      const list = await collect(clientOf(c).items<EventTypeOut>('/api/v1/event-type', { include_archived: o.includeArchived }, maxOf(o)));
      print(io, jsonOf(c), list, () => table(list, columns));
    });

  apiCommand(cmd, 'get <name>', 'show an event type with its schemas').action(async (name: string, _o, c: Command) => {
    const e = await clientOf(c).request<EventTypeOut>('GET', `/api/v1/event-type/${seg(name)}`);
    print(io, jsonOf(c), e, () => record({ ...e }));
  });

  flags(apiCommand(cmd, 'create <name>', 'create an event type'))
    .requiredOption('--description <text>', 'what it means')
    .action(async (name: string, o: Flags, c: Command) => {
      const e = await clientOf(c).request<EventTypeOut>('POST', '/api/v1/event-type', { body: { name, ...(await bodyOf(o)) } });
      print(io, jsonOf(c), e, () => `${e.name}\n`);
    });

  flags(apiCommand(cmd, 'update <name>', 'change an event type (only the given fields)'))
    .option('--description <text>', 'what it means')
    .option('--no-archived', 'unarchive it')
    .option('--no-deprecated', 'clear the deprecated mark')
    .action(async (name: string, o: Flags, c: Command) => {
      const e = await clientOf(c).request<EventTypeOut>('PATCH', `/api/v1/event-type/${seg(name)}`, { body: await bodyOf(o) });
      print(io, jsonOf(c), e, () => record({ ...e }));
    });

  apiCommand(cmd, 'delete <name>', 'archive an event type (--expunge deletes it)')
    .option('--expunge', 'delete it for good instead of archiving it')
    .action(async (name: string, o: { expunge?: boolean }, c: Command) => {
      await clientOf(c).request('DELETE', `/api/v1/event-type/${seg(name)}`, { query: { expunge: o.expunge } });
      print(io, jsonOf(c), { deleted: name }, () => `${o.expunge ? 'deleted' : 'archived'} ${name}\n`);
    });

  apiCommand(cmd, 'import <source>', 'create or update event types from the webhooks of an OpenAPI document (file, URL, or - for stdin; JSON or YAML)')
    .option('--dry-run', 'list what would be imported without changing anything')
    .option('--no-progress', 'no progress bar')
    .action(async (source: string, o: { dryRun?: boolean; progress?: boolean }, c: Command) => {
      let found;
      try {
        found = eventTypesFromOpenApi(parseDocument(await readSource(source)));
      } catch (e: unknown) {
        if (e instanceof CliError) throw e;
        throw new CliError(`${source}: ${(e as Error).message}`, EXIT.invalid);
      }
      for (const s of found.skipped) io.err(`skipped ${s.webhook}: ${s.reason}\n`);
      if (found.eventTypes.length === 0 && found.skipped.length === 0) throw new CliError(`${source} describes no webhooks (no "webhooks" or "x-webhooks")`, EXIT.invalid);
      const imported: { name: string; result: 'created' | 'updated' | 'would import' }[] = [];
      if (o.dryRun) {
        for (const e of found.eventTypes) imported.push({ name: e.name, result: 'would import' });
      } else {
        const client = clientOf(c);
        const bar = new ProgressBar(found.eventTypes.length, 'importing event types', process.stderr, o.progress === false ? false : undefined);
        for (const e of found.eventTypes) {
          const existed = await client.request('GET', `/api/v1/event-type/${seg(e.name)}`).then(
            () => true,
            () => false,
          );
          await client.request('PUT', `/api/v1/event-type/${seg(e.name)}`, { body: { description: e.description, deprecated: e.deprecated, schemas: e.schemas } });
          imported.push({ name: e.name, result: existed ? 'updated' : 'created' });
          bar.tick();
        }
        bar.finish();
      }
      print(io, jsonOf(c), { imported, skipped: found.skipped }, () =>
        table(imported, [
          { header: 'event type', value: (r) => r.name },
          { header: 'result', value: (r) => r.result },
        ]),
      );
      if (found.skipped.length > 0) throw new CliError(`${found.skipped.length} webhook(s) could not be imported`, EXIT.invalid);
    });
  return cmd;
}

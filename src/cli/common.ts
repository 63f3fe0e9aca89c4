/** Helpers shared by the API commands: connection flags, argument parsers, output choice. */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ApiClient, resolveConnection } from './client.js';

export interface ApiOpts {
  server?: string;
  token?: string;
  json?: boolean;
}

/** Adds the options of commands that talk to a server: `--server`, `--token` and `--json`. */
export function apiOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'server URL (default: SWITCHBOARD_SERVER_URL, the config file, or http://127.0.0.1:8071)')
    .option('--token <token>', 'bearer token (default: SWITCHBOARD_TOKEN or the config file)')
    .option('--json', 'print JSON instead of a table');
}

/** A subcommand that talks to a server. */
export function apiCommand(parent: Command, spec: string, description: string): Command {
  return apiOptions(parent.command(spec).description(description));
}

/** The client for this command's flags, environment and config file. */
export function clientOf(cmd: Command): ApiClient {
  const o = cmd.optsWithGlobals<ApiOpts>();
  return new ApiClient(resolveConnection({ server: o.server, token: o.token }));
}

export const jsonOf = (cmd: Command): boolean => cmd.optsWithGlobals<ApiOpts>().json === true;

/** Collects a repeatable option into a list; commas split values too. */
export function list(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Collects repeatable `key=value` options into an object. */
export function pairs(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const i = value.indexOf('=');
  if (i < 1) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  return { ...(previous ?? {}), [value.slice(0, i)]: value.slice(i + 1) };
}

/** A whole number >= 0. */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An RFC 3339 time, or a duration ago such as `30m`, `12h`, `7d`. Returns ISO text. */
export function when(value: string, now = Date.now()): string {
  const rel = /^(\d+)([smhdw])$/.exec(value.trim());
  if (rel) return new Date(now - Number(rel[1]) * UNITS[rel[2]!]!).toISOString();
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`expected a date-time (2024-05-01T12:00:00Z) or a duration ago (30m, 12h, 7d), got "${value}"`);
  return new Date(t).toISOString();
}

/** Reads all of standard input. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON given inline, as `@path` (a file) or `-` (standard input). */
export async function jsonArg(value: string, what: string): Promise<unknown> {
  const text = value === '-' ? await readStdin() : value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw new InvalidArgumentError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A JSON object given inline, as `@path` or `-`. */
export async function jsonObjectArg(value: string, what: string): Promise<Record<string, unknown>> {
  const v = await jsonArg(value, what);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Options of list commands. */
export function withPaging(cmd: Command): Command {
  return cmd.option('--limit <n>', 'show at most this many (default 50)', count).option('--all', 'show every item, page after page');
}

/** How many items a list command shows. */
export const maxOf = (o: { limit?: number; all?: boolean }): number => (o.all ? Infinity : (o.limit ?? 50));

/** Collects an async iterator into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Helpers shared by the API commands: connection flags, argument parsers, output choice. */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ApiClient, resolveConnection } from './client.js';
import { CliError, EXIT } from './exit-codes.js';

export interface ApiOpts {
  server?: string;
  token?: string;
  json?: boolean;
}

/**
 * Adds `--server`, `--token` and `--json` to the program itself. Commander recognises a
 * program's options anywhere on the line, so `switchboard --server URL app list` and
 * `switchboard app list --server URL` mean the same; commands read them with
 * `optsWithGlobals()`, and no command defines them again (its own would never be set).
 */
export function globalOptions(program: Command): Command {
  return program
    .option('--server <url>', 'server URL (default: SWITCHBOARD_SERVER_URL, the config file, or http://127.0.0.1:8071)')
    .option('--token <token>', 'bearer token (default: SWITCHBOARD_TOKEN or the config file)')
    .option('--json', 'print JSON instead of text');
}

/** A subcommand that talks to a server (with the global `--server`, `--token` and `--json`). */
export function apiCommand(parent: Command, spec: string, description: string): Command {
  return parent.command(spec).description(description);
}

/** The client for this command's flags, environment and config file. */
export function clientOf(cmd: Command): ApiClient {
  return new ApiClient(resolveConnection(connectionFlags(cmd)));
}

export const jsonOf = (cmd: Command): boolean => cmd.optsWithGlobals<ApiOpts>().json === true;

/** The `--server` and `--token` given, before or after the command's name. */
export const connectionFlags = (cmd: Command): { server?: string | undefined; token?: string | undefined } => {
  const o = cmd.optsWithGlobals<ApiOpts>();
  return { server: o.server, token: o.token };
};

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

/** The text of a file named on the command line; a missing or unreadable one is a usage error. */
export function readFileArg(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e: unknown) {
    throw new CliError(`cannot read ${what} from ${path}: ${(e as Error).message}`, EXIT.usage);
  }
}

/**
 * Parses JSON given on the command line. Thrown inside an action, so a CliError: commander
 * prints the errors of its own option parsers, not those of actions.
 */
export function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw new CliError(`${what} is not valid JSON: ${(e as Error).message}`, EXIT.usage);
  }
}

/** JSON given inline, as `@path` (a file) or `-` (standard input). */
export async function jsonArg(value: string, what: string): Promise<unknown> {
  const text = value === '-' ? await readStdin() : value.startsWith('@') ? readFileArg(value.slice(1), what) : value;
  return parseJsonArg(text, what);
}

/** A JSON object given inline, as `@path` or `-`. */
export async function jsonObjectArg(value: string, what: string): Promise<Record<string, unknown>> {
  return asJsonObject(await jsonArg(value, what), what);
}

/** `value` if it is a JSON object; else a usage error naming `what`. */
export function asJsonObject(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${what} must be a JSON object`, EXIT.usage);
  return value as Record<string, unknown>;
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

/**
 * `switchboard verify`: checks a webhook's Standard Webhooks signature (also the `svix-*`
 * header names) against a secret, with the timestamp tolerance receivers should apply.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { secretKey, verifySignature } from '../domain/signature.js';
import { asJsonObject, count, jsonOf, parseJsonArg, readFileArg, readStdin } from './common.js';
import { CliError, EXIT } from './exit-codes.js';
import { print, stdio } from './output.js';
import type { Io } from './output.js';

/** Default tolerance between the signed timestamp and now, as receivers apply it. */
export const DEFAULT_TOLERANCE_S = 300;

interface Opts {
  secret: string;
  id?: string;
  timestamp?: string;
  signature?: string;
  headers?: string;
  payload?: string;
  payloadFile?: string;
  tolerance?: number;
}

/** Headers given as JSON (inline or @file), names case-insensitive. */
function headersOf(value: string | undefined): Record<string, string> {
  if (value === undefined) return {};
  const parsed = asJsonObject(parseJsonArg(value.startsWith('@') ? readFileArg(value.slice(1), '--headers') : value, '--headers'), '--headers');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) out[k.toLowerCase()] = Array.isArray(v) ? String(v[0]) : String(v);
  return out;
}

/** The raw body from a file, bytes unchanged. */
function payloadFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e: unknown) {
    throw new CliError(`cannot read --payload-file from ${path}: ${(e as Error).message}`, EXIT.usage);
  }
}

/** Checks one signed request; returns null when it verifies, else why not. */
export function check(secret: string, id: string, timestamp: string, signature: string, payload: Buffer, toleranceS: number, nowMs = Date.now()): string | null {
  if (!/^\d{1,12}$/.test(timestamp)) return 'the timestamp is not a number of seconds';
  const ts = Number(timestamp);
  if (toleranceS > 0 && Math.abs(nowMs / 1000 - ts) > toleranceS) return `the timestamp is more than ${toleranceS} s away from now`;
  let key: Buffer;
  try {
    key = secretKey(secret);
  } catch {
    return 'the secret is not valid base64';
  }
  if (key.length === 0) return 'the secret is empty';
  return verifySignature(key, id, ts, payload, signature) ? null : 'no signature matches';
}

/** The `verify` command. */
export function verifyCommand(io: Io = stdio): Command {
  return new Command('verify')
    .description('check the signature of a webhook (Standard Webhooks; svix-* header names too). Exit 0 if valid, 10 if not')
    .requiredOption('--secret <whsec>', 'the endpoint secret (whsec_...)')
    .option('--id <id>', 'the webhook-id header')
    .option('--timestamp <seconds>', 'the webhook-timestamp header')
    .option('--signature <value>', 'the webhook-signature header (v1,... possibly several)')
    .option('--headers <json>', 'the request headers as a JSON object (inline or @file) instead of --id/--timestamp/--signature')
    .option('--payload <text>', 'the raw body')
    .option('--payload-file <path>', 'read the raw body from a file (default: standard input)')
    .option('--tolerance <seconds>', `how far the timestamp may be from now; 0 does not check (default ${DEFAULT_TOLERANCE_S})`, count)
    .action(async (o: Opts, c: Command) => {
      const h = headersOf(o.headers);
      const id = o.id ?? h['webhook-id'] ?? h['svix-id'];
      const timestamp = o.timestamp ?? h['webhook-timestamp'] ?? h['svix-timestamp'];
      const signature = o.signature ?? h['webhook-signature'] ?? h['svix-signature'];
      if (!id || !timestamp || !signature) throw new CliError('need the id, timestamp and signature: --id/--timestamp/--signature or --headers', EXIT.usage);
      const payload = o.payload !== undefined ? Buffer.from(o.payload, 'utf8') : o.payloadFile !== undefined ? payloadFile(o.payloadFile) : Buffer.from(await readStdin(), 'utf8');
      const problem = check(o.secret, id, timestamp, signature, payload, o.tolerance ?? DEFAULT_TOLERANCE_S);
      print(io, jsonOf(c), { valid: problem === null, reason: problem ?? undefined }, () => (problem === null ? 'valid\n' : `invalid: ${problem}\n`));
      if (problem !== null) process.exitCode = EXIT.verificationFailed;
    });
}

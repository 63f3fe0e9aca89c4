/**
 * Identifiers: a type prefix (`app_`, `ep_`, `msg_` ...) followed by 27 base62
 * characters encoding 6 bytes of millisecond time and 14 random bytes. They sort
 * by creation time (to the millisecond) and carry 112 random bits, so they cannot
 * be guessed.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_BODY_LENGTH = 27;

export const ID_PREFIX = {
  application: 'app_',
  endpoint: 'ep_',
  message: 'msg_',
  attempt: 'atmpt_',
  task: 'qtask_',
  apiKey: 'key_',
  oauthClient: 'client_',
  portalToken: 'portal_',
  pollingEndpoint: 'poll_',
  pollerToken: 'ptok_',
  source: 'src_',
  ingestLog: 'log_',
  integration: 'integ_',
  connector: 'conn_',
  stream: 'strm_',
  sink: 'sink_',
  sinkAttempt: 'satt_',
  streamToken: 'stok_',
  streamEvent: 'evt_',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const ZERO_CODE = ALPHABET_CODES[0]!;

/** Limbs of 24 bits, divided by 62^4 at a time: every intermediate stays an exact integer in a double. */
const LIMB = 2 ** 24;
const FOUR_DIGITS = 62 ** 4;

/**
 * Encodes bytes as fixed-width base62, so lexical order equals numeric order. Long division
 * of the big-endian bytes, taken as 24-bit limbs, by 62^4, four digits per pass: no BigInt, no
 * string built a character at a time (a chain of concatenations that every identifier kept
 * alive until it was flattened), one flat string at the end.
 */
export function base62(bytes: Uint8Array, width: number): string {
  const count = Math.ceil(bytes.length / 3);
  const limbs: number[] = new Array<number>(count);
  // The first limb takes what the others leave: one, two or three bytes.
  const pad = count * 3 - bytes.length;
  for (let i = 0, j = -pad; i < count; i++, j += 3) {
    limbs[i] = ((j >= 0 ? bytes[j]! : 0) << 16) | ((j + 1 >= 0 ? bytes[j + 1]! : 0) << 8) | bytes[j + 2]!;
  }
  let start = 0;
  while (start < count && limbs[start] === 0) start++;
  const digits: number[] = []; // least significant first
  while (start < count) {
    let rem = 0;
    for (let i = start; i < count; i++) {
      const cur = rem * LIMB + limbs[i]!;
      const q = Math.floor(cur / FOUR_DIGITS);
      limbs[i] = q;
      rem = cur - q * FOUR_DIGITS;
    }
    for (let d = 0; d < 4; d++) {
      const q = Math.floor(rem / 62);
      digits.push(ALPHABET_CODES[rem - q * 62]!);
      rem = q;
    }
    while (start < count && limbs[start] === 0) start++;
  }
  // The last pass may add leading zeros beyond the number's own digits.
  while (digits.length > width && digits[digits.length - 1] === ZERO_CODE) digits.pop();
  while (digits.length < width) digits.push(ZERO_CODE);
  return String.fromCharCode(...digits.reverse());
}

// Random bytes are drawn in blocks: one system call serves hundreds of identifiers.
let pool = Buffer.alloc(0);
let poolAt = 0;
function takeRandom(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** A new identifier of the given kind, created at `nowMs`. */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  const buf = Buffer.alloc(20);
  buf.writeUIntBE(Math.max(0, Math.floor(nowMs)) % 2 ** 48, 0, 6);
  takeRandom(14).copy(buf, 6);
  return ID_PREFIX[kind] + base62(buf, ID_BODY_LENGTH);
}

/** The smallest identifier of the given kind created at `atMs`: every id created earlier sorts below it. */
export function idBoundary(kind: IdKind, atMs: number): string {
  const buf = Buffer.alloc(20);
  buf.writeUIntBE(Math.max(0, Math.floor(atMs)) % 2 ** 48, 0, 6);
  return ID_PREFIX[kind] + base62(buf, ID_BODY_LENGTH);
}

/** The creation time (epoch ms) an identifier of the given kind carries; null if `id` is not one. */
export function idTime(kind: IdKind, id: string): number | null {
  if (!isIdOf(kind, id)) return null;
  let n = 0n;
  for (const ch of id.slice(ID_PREFIX[kind].length)) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return null;
    n = n * 62n + BigInt(digit);
  }
  // The time is the first 6 of the 20 bytes; the other 14 are random.
  return Number(n >> 112n);
}

/** True if `value` looks like an identifier of the given kind (else it may be a uid). */
export function isIdOf(kind: IdKind, value: string): boolean {
  return value.startsWith(ID_PREFIX[kind]) && value.length === ID_PREFIX[kind].length + ID_BODY_LENGTH;
}

/** Pattern every `uid` and event type name must match. */
export const UID_PATTERN = /^[a-zA-Z0-9\-_.]+$/;

const ID_KINDS = Object.keys(ID_PREFIX) as IdKind[];
const BASE62_BODY = /^[0-9A-Za-z]+$/;

/** The kind of identifier `value` has the shape of (any kind Switchboard issues), or null. */
export function idKindOf(value: string): IdKind | null {
  for (const kind of ID_KINDS) {
    if (isIdOf(kind, value) && BASE62_BODY.test(value.slice(ID_PREFIX[kind].length))) return kind;
  }
  return null;
}

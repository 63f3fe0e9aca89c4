/**
 * Secrets at rest: AES-256-GCM under an operator key ring. The first key seals; every key
 * opens, so a new key can be put in front of the old one without downtime, and
 * `switchboard keys reencrypt` then rewrites old values under the new key.
 *
 * A sealed value is text: `sbenc:v1:<key id>:<base64url(iv | ciphertext | tag)>`. Values
 * without the prefix are plaintext written before encryption was on, and open as themselves.
 */
import { createCipheriv, createDecipheriv, createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PRIVATE_FILE_MODE, keepPrivate } from './private-files.js';
import { join } from 'node:path';

const PREFIX = 'sbenc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Finds sealed values inside larger text (JSON documents holding several). */
export const SEALED_PATTERN = /sbenc:v1:([A-Za-z0-9_-]{8}):([A-Za-z0-9_-]+)/g;

/** Short public id of a key: which key sealed a value, without revealing the key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('switchboard-key-id\n').update(key).digest('base64url').slice(0, 8);
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: { id: string; key: Buffer } | null;

  /** `keys[0]` seals new values; all of them open. With no keys, values are stored in plaintext. */
  constructor(keys: readonly Buffer[]) {
    for (const k of keys) {
      if (k.length !== 32) throw new Error('an encryption key must be 32 bytes');
      this.keys.set(keyId(k), k);
    }
    this.current = keys[0] ? { id: keyId(keys[0]), key: keys[0] } : null;
  }

  /** A box that stores plaintext (stores built without an operator key, as in unit tests). */
  static plaintext(): SecretBox {
    return new SecretBox([]);
  }

  /** Id of the sealing key, or null when sealing is off. */
  get currentKeyId(): string | null {
    return this.current?.id ?? null;
  }

  /** Encrypts a value under the current key. */
  seal(plaintext: string): string {
    if (!this.current) return plaintext;
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([iv, c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
    return PREFIX + this.current.id + ':' + body.toString('base64url');
  }

  /** True if the value is sealed (under any key). */
  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  /** Decrypts a sealed value; plaintext passes through. Throws if no key of the ring opens it. */
  open(value: string): string {
    if (!value.startsWith(PREFIX)) return value;
    const m = /^sbenc:v1:([A-Za-z0-9_-]{8}):([A-Za-z0-9_-]+)$/.exec(value);
    if (!m) throw new Error('a sealed secret is malformed');
    return this.openParts(m[1]!, m[2]!);
  }

  private openParts(id: string, b64: string): string {
    const key = this.keys.get(id);
    if (!key) throw new Error(`a secret is sealed with key ${id}, which is not in SWITCHBOARD_ENCRYPTION_KEY`);
    const raw = Buffer.from(b64, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('a sealed secret is truncated');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    d.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([d.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), d.final()]).toString('utf8');
  }

  /**
   * Re-seals every sealed value inside `text` that is not under the current key; a whole
   * plaintext value (`wholeIsSecret`) is sealed too. `text` is null when nothing changes.
   * Look-alikes that no key of the ring opens (text someone sent that merely looks sealed,
   * or a value under a key missing from the ring) are left as they are and counted.
   */
  rewrap(text: string, wholeIsSecret = false): { text: string | null; unopened: number } {
    if (!this.current) return { text: null, unopened: 0 };
    if (wholeIsSecret && !text.startsWith(PREFIX)) return { text: this.seal(text), unopened: 0 };
    let changed = false;
    let unopened = 0;
    const out = text.replace(SEALED_PATTERN, (whole, id: string, b64: string) => {
      if (id === this.current!.id) return whole;
      try {
        const again = this.seal(this.openParts(id, b64));
        changed = true;
        return again;
      } catch {
        unopened++;
        return whole;
      }
    });
    return { text: changed ? out : null, unopened };
  }
}

/** Parses `SWITCHBOARD_ENCRYPTION_KEY`: comma-separated 32-byte keys in base64, base64url or hex. */
export function parseKeyRing(text: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const raw of text.split(',')) {
    const s = raw.trim();
    if (!s) continue;
    const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, /[-_]/.test(s) ? 'base64url' : 'base64');
    if (key.length !== 32) throw new Error('each key must be 32 bytes, written in base64 or hex (e.g. `openssl rand -base64 32`)');
    keys.push(key);
  }
  return keys;
}

/** The key ring: configured, or one key generated once into the data directory. */
export function resolveKeyRing(configured: Buffer[], dataDir: string, onGenerated: (file: string) => void): Buffer[] {
  if (configured.length > 0) return configured;
  const file = join(dataDir, 'encryption-key');
  if (existsSync(file)) {
    keepPrivate(file);
    return parseKeyRing(readFileSync(file, 'utf8'));
  }
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    keepPrivate(file);
  } catch (e: unknown) {
    // Another process (a CLI command next to the server) generated it first: use theirs.
    if ((e as { code?: string }).code === 'EEXIST') return parseKeyRing(readFileSync(file, 'utf8'));
    throw e;
  }
  onGenerated(file);
  return [key];
}

/** Random bytes in every bearer token and client secret (256 bits). */
export const TOKEN_BYTES = 32;

/** A new bearer token: a readable prefix naming its kind, then 32 random bytes in base64url. */
export function newToken(prefix: string): string {
  return prefix + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** How tokens are stored: SHA-256, hex. Tokens carry 256 random bits, so a fast hash is enough. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Compares two hex hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

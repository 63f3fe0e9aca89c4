/** Identifiers carry their creation time: ingest dedupe reads it from a duplicate's id. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { base62, idTime, newId } from '../../src/domain/ids.js';

describe('idTime', () => {
  it('reads back the time an identifier was created at', () => {
    for (const t of [0, 1, 1_700_000_000_000, 2 ** 48 - 1]) assert.equal(idTime('message', newId('message', t)), t);
  });

  it('is null for anything that is not an identifier of that kind', () => {
    assert.equal(idTime('message', ''), null);
    assert.equal(idTime('message', 'evt-1'), null);
    assert.equal(idTime('message', newId('endpoint', 5)), null);
    assert.equal(idTime('message', 'msg_' + '!'.repeat(27)), null);
  });
});

describe('base62', () => {
  const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  /** The number the bytes spell, written in base 62 by BigInt arithmetic and padded with zeros. */
  const reference = (bytes: Uint8Array, width: number): string => {
    let n = 0n;
    for (const b of bytes) n = (n << 8n) | BigInt(b);
    let out = '';
    for (; n > 0n; n /= 62n) out = ALPHABET[Number(n % 62n)]! + out;
    return out.padStart(width, '0');
  };

  it('writes the number the bytes spell, fixed width, for edge and random values', () => {
    const cases = [new Uint8Array(20), new Uint8Array(20).fill(255), Uint8Array.from([0, 0, 0, 1]), Uint8Array.from([61]), Uint8Array.from([62]), new Uint8Array(0)];
    // Up to 24 bytes: numbers wider than the width as well, written in full.
    for (let i = 0; i < 500; i++) cases.push(randomBytes(1 + (i % 24)));
    for (const b of cases) assert.equal(base62(b, 27), reference(b, 27), `bytes ${Buffer.from(b).toString('hex')}`);
  });

  it('leaves its input as it was', () => {
    const b = randomBytes(20);
    const copy = Buffer.from(b);
    base62(b, 27);
    assert.deepEqual(b, copy);
  });

  it('sorts identifiers by creation time', () => {
    const ids = [5, 1_000, 1_700_000_000_000, 2 ** 48 - 1].map((t) => newId('attempt', t));
    assert.deepEqual([...ids].sort(), ids);
  });
});

/**
 * Properties of webhook signatures (fast-check): what is signed verifies, with our verifier
 * and the independent `standardwebhooks` one; any one-byte change to the id, the timestamp,
 * the body or the signature fails; the timestamp tolerance is enforced both ways.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { SECRET_PREFIX, signatureHeader, verifyWebhook } from '../../src/domain/signature.js';

const NOW = 1_900_000_000;
const key = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b));
const msgId = fc.string({ minLength: 1, maxLength: 64, unit: 'binary-ascii' }).filter((s) => !s.includes(' '));
const body = fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b));
const offset = fc.integer({ min: -300, max: 300 });

/**
 * HMAC pads a key shorter than its block (64 bytes for SHA-256) with zero bytes, so two keys
 * that differ only in trailing zero bytes are the same HMAC key: [0] and [0, 0] sign alike.
 */
function sameHmacKey(a: Buffer, b: Buffer): boolean {
  const trim = (k: Buffer) => {
    let end = k.length;
    while (end > 0 && k[end - 1] === 0) end--;
    return k.subarray(0, end);
  };
  return trim(a).equals(trim(b));
}

/** Replaces the byte at `at` (modulo the length) with a different byte. */
function mutate(b: Buffer, at: number, to: number): Buffer {
  const out = Buffer.from(b);
  const i = at % out.length;
  out[i] = out[i] === to ? (to + 1) % 256 : to;
  return out;
}

describe('signature properties', () => {
  it('sign then verify holds, within the tolerance', () => {
    fc.assert(
      fc.property(key, msgId, body, offset, (k, id, b, off) => {
        const ts = String(NOW + off);
        const header = signatureHeader([k], id, ts, b);
        assert.deepEqual(verifyWebhook([k], { id, timestamp: ts, signature: header }, b, NOW), { ok: true });
      }),
      { numRuns: 300 },
    );
  });

  it('the independent standardwebhooks verifier accepts what Switchboard signs', () => {
    fc.assert(
      fc.property(key, fc.stringMatching(/^msg_[A-Za-z0-9]{1,40}$/), fc.json({ maxDepth: 3 }), (k, id, text) => {
        const ts = Math.floor(Date.now() / 1000);
        const header = signatureHeader([k], id, ts, text);
        const wh = new Webhook(SECRET_PREFIX + k.toString('base64'));
        wh.verify(text, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': header });
      }),
      { numRuns: 100 },
    );
  });

  it('any one-byte change to the id, timestamp, body or signature fails', () => {
    const field = fc.constantFrom('id', 'timestamp', 'body', 'signature');
    fc.assert(
      fc.property(key, msgId, body.filter((b) => b.length > 0), fc.nat(), fc.integer({ min: 0, max: 255 }), field, (k, id, b, at, to, which) => {
        const ts = String(NOW);
        const header = signatureHeader([k], id, ts, b);
        let h = { id, timestamp: ts, signature: header };
        let sent: Buffer = b;
        if (which === 'id') h = { ...h, id: mutate(Buffer.from(id, 'latin1'), at, to).toString('latin1') };
        if (which === 'timestamp') h = { ...h, timestamp: mutate(Buffer.from(ts, 'latin1'), at, to).toString('latin1') };
        if (which === 'signature') h = { ...h, signature: mutate(Buffer.from(header, 'latin1'), at, to).toString('latin1') };
        if (which === 'body') sent = mutate(b, at, to);
        const r = verifyWebhook([k], h, sent, NOW, Number.MAX_SAFE_INTEGER);
        assert.equal(r.ok, false, `${which} changed`);
      }),
      { numRuns: 1000 },
    );
  });

  it('the tolerance is enforced on both sides of now', () => {
    fc.assert(
      fc.property(key, msgId, body, fc.integer({ min: 1, max: 10_000_000 }), fc.boolean(), fc.integer({ min: 1, max: 3600 }), (k, id, b, beyond, future, tol) => {
        const ts = String(NOW + (future ? 1 : -1) * (tol + beyond));
        const header = signatureHeader([k], id, ts, b);
        assert.deepEqual(verifyWebhook([k], { id, timestamp: ts, signature: header }, b, NOW, tol), { ok: false, reason: 'timestamp_out_of_tolerance' });
        const edge = String(NOW + (future ? tol : -tol));
        assert.equal(verifyWebhook([k], { id, timestamp: edge, signature: signatureHeader([k], id, edge, b) }, b, NOW, tol).ok, true);
      }),
      { numRuns: 300 },
    );
  });

  it('during a rotation either key verifies, another key never does', () => {
    fc.assert(
      fc.property(key, key, key, msgId, body, (k1, k2, k3, id, b) => {
        fc.pre(!sameHmacKey(k3, k1) && !sameHmacKey(k3, k2));
        const header = signatureHeader([k1, k2], id, NOW, b);
        const h = { id, timestamp: String(NOW), signature: header };
        assert.equal(verifyWebhook([k1], h, b, NOW).ok, true);
        assert.equal(verifyWebhook([k2], h, b, NOW).ok, true);
        assert.equal(verifyWebhook([k3], h, b, NOW).ok, false);
      }),
      { numRuns: 200 },
    );
  });

  it('keys that differ only in trailing zero bytes are one HMAC key (why the rotation property excludes them)', () => {
    const header = signatureHeader([Buffer.from([0])], 'msg_1', NOW, '{}');
    const h = { id: 'msg_1', timestamp: String(NOW), signature: header };
    assert.equal(verifyWebhook([Buffer.from([0, 0])], h, '{}', NOW).ok, true);
    assert.equal(verifyWebhook([Buffer.from([0, 1])], h, '{}', NOW).ok, false);
  });

  it('refuses missing headers and timestamps that are not plain seconds', () => {
    const k = Buffer.from('k');
    const header = signatureHeader([k], 'msg_1', NOW, '{}');
    for (const timestamp of ['', '0', '01900000000', '1900000000.0', ' 1900000000', '+1900000000', '1e9', '-1']) {
      assert.equal(verifyWebhook([k], { id: 'msg_1', timestamp, signature: header }, '{}', NOW, Number.MAX_SAFE_INTEGER).ok, false, timestamp);
    }
    assert.deepEqual(verifyWebhook([k], { id: undefined, timestamp: String(NOW), signature: header }, '{}', NOW), { ok: false, reason: 'missing_headers' });
  });
});

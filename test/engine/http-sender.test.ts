/**
 * The HTTP sender against a real receiver on loopback: what it reads of an answer (status, the
 * headers the engine acts on, the body up to its cap), how a request that takes too long ends,
 * and the signature the receiver verifies with the `standardwebhooks` package.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { parseNetworks } from '../../src/domain/network.js';
import { generateSecret } from '../../src/domain/signature.js';
import { HttpSender, RESPONSE_READ_LIMIT } from '../../src/engine/http-sender.js';
import type { SendResult } from '../../src/engine/http-sender.js';
import { Receiver } from '../helpers/receiver.js';

const LOOPBACK = parseNetworks('127.0.0.0/8');

function response(r: SendResult): Extract<SendResult, { kind: 'response' }> {
  if (r.kind !== 'response') assert.fail(r.reason);
  return r;
}

function failure(r: SendResult): string {
  assert.equal(r.kind, 'error', r.kind === 'response' ? `answered ${r.status}` : '');
  return r.kind === 'error' ? r.reason : '';
}

describe('HttpSender', () => {
  const rx = new Receiver();
  let sender: HttpSender;
  before(async () => {
    await rx.start();
    sender = new HttpSender({ allowedNetworks: LOOPBACK, timeoutMs: 10_000 });
  });
  after(async () => {
    await sender.close();
    await rx.close();
  });

  it('signs the body it sends, and reads the status, Retry-After, webhook-delivery and the body', async () => {
    const secret = generateSecret();
    rx.on('/signed', (req, res) => {
      new Webhook(secret).verify(req.body, req.headers as Record<string, string>); // throws on a bad signature: no answer, the test fails
      res.setHeader('Retry-After', ['120', '5']);
      res.writeHead(429, { 'Webhook-Delivery': 'pause', 'Content-Type': 'text/plain' }).end('slow down: ünïcode');
    });
    const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };
    const r = response(
      await sender.send({ url: rx.url('/signed'), headers, body: '{"a":1}', signature: { messageId: 'msg_1', timestamp: Number(headers['webhook-timestamp']), secrets: [secret], headers: ['webhook-signature'] } }),
    );
    assert.deepEqual([r.status, r.retryAfter, r.deliveryDirective, r.body], [429, '120', 'pause', 'slow down: ünïcode'], 'a header sent twice: its first value');
    assert.equal(rx.at('/signed')[0]?.headers['content-type'], 'application/json');
    assert.ok(r.durationMs >= 0);
  });

  it('passes over informational answers to the final one', async () => {
    rx.on('/hints?x=1', (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(204).end();
    });
    const r = response(await sender.send({ url: rx.url('/hints?x=1'), headers: {}, body: '{}' }));
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(rx.at('/hints?x=1').length, 1, 'sent with its query string');
  });

  it(`keeps the first ${RESPONSE_READ_LIMIT / 1024} KiB of a large body and closes the connection on the rest`, async () => {
    const big = 'x'.repeat(RESPONSE_READ_LIMIT - 10) + 'END-OF-CAP' + 'y'.repeat(4 * 1024 * 1024);
    rx.on('/big', (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(big));
    const r = response(await sender.send({ url: rx.url('/big'), headers: {}, body: '{}' }));
    assert.equal(r.body.length, RESPONSE_READ_LIMIT);
    assert.ok(r.body.endsWith('END-OF-CAP'));
    // The pool still sends: the cut connection was replaced.
    assert.equal(response(await sender.send({ url: rx.url('/after-big'), headers: {}, body: '{}' })).status, 200);
  });

  it('ends a request that gets no answer, or whose body stalls, at its timeout', async () => {
    const quick = new HttpSender({ allowedNetworks: LOOPBACK, timeoutMs: 300 });
    try {
      rx.on('/hang', () => 'hang');
      rx.on('/stall', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        return 'hang';
      });
      for (const path of ['/hang', '/stall']) {
        const r = await quick.send({ url: rx.url(path), headers: {}, body: '{}' });
        assert.equal(failure(r), 'timeout: no complete response in time', path);
        assert.ok(r.durationMs >= 250, `${path}: ended after ${r.durationMs} ms`);
      }
      // A timed-out request leaves the pool able to send.
      assert.equal(response(await quick.send({ url: rx.url('/fine'), headers: {}, body: '{}' })).status, 200);
    } finally {
      await quick.close();
    }
  });

  it('reports a refused connection, a connection closed mid-answer, and a URL it may not send to', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    assert.match(failure(await sender.send({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}' })), /ECONNREFUSED/);
    rx.on('/reset', (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
      res.socket?.destroy();
    });
    assert.match(failure(await sender.send({ url: rx.url('/reset'), headers: {}, body: '{}' })), /UND_ERR_SOCKET|other side closed|ECONNRESET/);
    assert.equal(failure(await sender.send({ url: 'not a url', headers: {}, body: '{}' })), 'invalid endpoint URL');
    assert.match(failure(await sender.send({ url: 'http://10.0.0.1/', headers: {}, body: '{}' })), /address not allowed: .*SWITCHBOARD_ALLOWED_NETWORKS=10\.0\.0\.1\/32/);
    // Asked again, the same answers (they are kept per URL).
    assert.equal(failure(await sender.send({ url: 'not a url', headers: {}, body: '{}' })), 'invalid endpoint URL');
    assert.match(failure(await sender.send({ url: 'http://10.0.0.1/', headers: {}, body: '{}' })), /address not allowed/);
  });
});

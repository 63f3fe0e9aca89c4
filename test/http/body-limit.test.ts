/**
 * Oversize bodies always get a 413, never a connection reset: over real sockets, with a
 * Content-Length over the limit (answered before the body is read) and with chunked bodies
 * (answered once the limit is passed), many times over, while the client is still sending.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LINGER_MS } from '../../src/http/body-limit.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const BIG = Buffer.alloc(10 * 1024 * 1024, 'a');
const ROUNDS = 12;

interface Outcome {
  /** Everything the server sent, as text. */
  received: string;
  /** The socket error the client saw, if any. */
  error: string | null;
  /** Bytes of body the client had written when the response began to arrive. */
  writtenAtResponse: number | null;
}

/** Opens a raw connection, sends `head`, then `send`s the body; resolves once the server has closed. */
function exchange(server: TestServer, head: string, send: (s: net.Socket, written: () => number) => void): Promise<Outcome> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1');
    const out: Outcome = { received: '', error: null, writtenAtResponse: null };
    const written = () => s.bytesWritten - Buffer.byteLength(head);
    s.on('data', (d) => {
      out.writtenAtResponse ??= written();
      out.received += d.toString('utf8');
    });
    s.on('error', (e: NodeJS.ErrnoException) => (out.error = e.code ?? e.message));
    s.on('close', () => resolve(out));
    s.on('connect', () => {
      s.write(head);
      send(s, written);
    });
  });
}

const headOf = (token: string | null, framing: string) =>
  'POST /api/v1/app/anything/msg HTTP/1.1\r\nhost: switchboard\r\ncontent-type: application/json\r\n' +
  (token ? `authorization: Bearer ${token}\r\n` : '') +
  `${framing}\r\n\r\n`;

/** Asserts a complete 413 in the API's error shape. */
function assert413(o: Outcome, what: string): void {
  const [status, ...rest] = o.received.split('\r\n');
  assert.equal(status, 'HTTP/1.1 413 Payload Too Large', `${what}: ${JSON.stringify(o.received.slice(0, 200))} error ${o.error}`);
  const body = JSON.parse(rest.join('\r\n').split('\r\n\r\n')[1] ?? '') as { code: string; detail: string };
  assert.equal(body.code, 'payload_too_large', what);
  assert.match(body.detail, /request body is larger than \d+ bytes/, what);
  assert.match(o.received.toLowerCase(), /\r\nconnection: close\r\n/, what);
}

describe('oversize bodies over real sockets', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it(`a Content-Length over the limit gets a 413 every time, ${ROUNDS} times over, the body sent in full`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const o = await exchange(server, headOf(server.token, `content-length: ${BIG.length}`), (s) => s.end(BIG));
      assert413(o, `round ${i}`);
      assert.equal(o.error, null, `round ${i}: no reset`);
    }
  });

  it(`a chunked body that passes the limit gets a 413 every time, ${ROUNDS} times over`, async () => {
    const chunk = BIG.subarray(0, 1024 * 1024);
    for (let i = 0; i < ROUNDS; i++) {
      const o = await exchange(server, headOf(server.token, 'transfer-encoding: chunked'), (s) => {
        for (let n = 0; n < 10; n++) s.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
        s.end('0\r\n\r\n');
      });
      assert413(o, `round ${i}`);
      assert.equal(o.error, null, `round ${i}: no reset`);
    }
  });

  it('the 413 comes before the body is sent, and before authentication', async () => {
    let sent = false;
    const o = await exchange(server, headOf(null, `content-length: ${BIG.length}`), (s, written) => {
      // The body follows only once the answer is in: the server did not wait for it.
      s.once('data', () => {
        assert.equal(written(), 0);
        sent = true;
        s.end(BIG);
      });
    });
    assert413(o, 'headers only');
    assert.equal(o.writtenAtResponse, 0);
    assert.ok(sent);
    assert.equal(o.error, null);
  });

  it('a client that claims a huge body and sends nothing is let go after the lingering time', async () => {
    const connections = () => new Promise<number>((resolve, reject) => server.sb.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    const { port } = new URL(server.url);
    // allowHalfOpen: the client keeps its side open when the server ends its own, as a stalling client would.
    const s = net.connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => {});
    let received = '';
    const answered = new Promise<void>((resolve) => s.on('data', (d) => ((received += d.toString()), resolve())));
    s.write(headOf(server.token, `content-length: ${100 * BIG.length}`));
    await answered;
    const started = Date.now();
    assert.match(received, /^HTTP\/1.1 413 /);
    assert.equal(await connections(), 1);
    while ((await connections()) > 0 && Date.now() - started < LINGER_MS + 3_000) await new Promise((r) => setTimeout(r, 100));
    const took = Date.now() - started;
    s.destroy();
    assert.ok(took >= LINGER_MS - 200 && took < LINGER_MS + 3_000, `let go after ${took} ms`);
  });

  it('bodies within the limit are still read', async () => {
    const body = JSON.stringify({ name: 'within' });
    const o = await exchange(
      server,
      `POST /api/v1/app HTTP/1.1\r\nhost: switchboard\r\ncontent-type: application/json\r\nauthorization: Bearer ${server.token}\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n`,
      // Not ended: Node's server drops a request whose client half-closes before the answer.
      (s) => s.write(body),
    );
    assert.match(o.received, /^HTTP\/1.1 201 /, `error: ${o.error}`);
  });
});

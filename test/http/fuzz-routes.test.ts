/**
 * Generated hostile requests (fast-check) against every route of the route table: odd path
 * parameters, query strings, bodies that are almost right or wildly wrong, wrong content
 * types and credentials. No answer is a 5xx, the server keeps answering, and data accepted
 * before the barrage is intact after it. Malformed HTTP on raw sockets gets a 4xx too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import type { RouteEntry } from '../../src/http/auth.js';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { createApp, createKey } from '../helpers/security.js';

/** Runs per route; the seed is fixed so a failure can be replayed. */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 20);
const SEED = Number(process.env.FUZZ_SEED ?? 20300101);

const nasty = fc.constantFrom(
  '',
  ' ',
  '..',
  '../..',
  '%',
  '%00',
  '%2e%2e%2f',
  '\u0000',
  '\uffff',
  '\ud800',
  '__proto__',
  'constructor',
  "' OR '1'='1",
  '"; DROP TABLE messages; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'a'.repeat(300),
  'a'.repeat(5000),
  '-1',
  '1e400',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
);

const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(1e308, -1e308, 2 ** 63, -0));

/** A JSON value that is deeply nested, wide, or carries prototype keys. */
const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.nat({ max: 400 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.nat({ max: 400 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":1e400}', '{"a":-1e400}', '{"a":1,"a":2}', '\u0000', '{', '', 'null', '[]'),
);

/** A body close to what the route expects, with one field replaced by something hostile. */
function nearlyValid(schema: any): fc.Arbitrary<unknown> {
  const props: Record<string, any> = schema?.properties ?? {};
  const names = Object.keys(props);
  if (names.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.record({ field: fc.constantFrom(...names), value: fc.oneof(scalar, fc.array(scalar, { maxLength: 5 }), fc.dictionary(text, scalar, { maxKeys: 5 })) }).map(({ field, value }) => {
    const base: Record<string, unknown> = {};
    for (const n of schema.required ?? []) base[n] = 'x';
    base[field] = value;
    return base;
  });
}

/** Percent-encodes text as a client would; lone surrogates cannot be sent and become U+FFFD. */
const enc = (t: string): string => encodeURIComponent(Buffer.from(t, 'utf8').toString('utf8'));
/** The text as sent unencoded: printable ASCII only (anything else is not a URL a client can send). */
const bare = (t: string): string => t.replace(/[^\x21-\x7e]/g, '') || 'x';

interface Req {
  params: string[];
  /** Path parameters sent unencoded (raw `%`, `..`, quotes) instead of percent-encoded. */
  rawParams: boolean;
  query: [string, string][];
  body: { kind: 'none' } | { kind: 'json'; text: string } | { kind: 'raw'; text: string; type: string };
  credential: number;
  idempotencyKey: string | null;
}

function requests(route: RouteEntry, paramCount: number, credentials: number): fc.Arbitrary<Req> {
  const qs: any = (route.schema?.querystring as any)?.properties ?? {};
  const queryKey = fc.oneof(fc.constantFrom(...Object.keys(qs), 'limit', 'iterator', 'order', 'before', 'after'), text);
  const body: fc.Arbitrary<Req['body']> = fc.oneof(
    fc.constant({ kind: 'none' as const }),
    nearlyValid(route.schema?.body).map((v) => ({ kind: 'json' as const, text: JSON.stringify(v) ?? 'null' })),
    hostileJson.map((v) => ({ kind: 'json' as const, text: typeof v === 'string' ? v : JSON.stringify(v) })),
    fc.record({ text: fc.string({ maxLength: 200 }), type: fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', '') }).map((r) => ({
      kind: 'raw' as const,
      ...r,
    })),
  );
  return fc.record({
    params: fc.array(text, { minLength: paramCount, maxLength: paramCount }),
    rawParams: fc.boolean(),
    query: fc.array(fc.tuple(queryKey, text), { maxLength: 4 }),
    body,
    // Mostly the admin token (it reaches every handler), then the scoped key, then none or a bad one.
    credential: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constant(1), weight: 2 }, { arbitrary: fc.nat({ max: credentials - 1 }), weight: 1 }),
    idempotencyKey: fc.option(text, { nil: null }),
  });
}

async function rawHttp(url: string, payload: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname, () => s.end(payload));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0)));
    setTimeout(() => s.destroy(), 5000).unref();
  });
}

describe('hostile requests against every route', () => {
  let server: TestServer;
  let rx: Receiver;
  let credentials: (string | null)[];
  const kept = { app: '', uid: `kept-${Math.random().toString(36).slice(2)}-${Date.now()}`, endpoint: '', secret: '', message: '', eventType: `kept.event.${Date.now()}` };
  let snapshot = '';

  /** Everything accepted before the barrage, as the API shows it. */
  async function state(): Promise<string> {
    const get = async (p: string) => {
      const r = await server.api('GET', p);
      assert.equal(r.status, 200, p);
      return r.body;
    };
    const strip = (o: any) => ({ ...o, updatedAt: undefined });
    return JSON.stringify({
      app: strip(await get(`/api/v1/app/${kept.app}`)),
      endpoint: strip(await get(`/api/v1/app/${kept.app}/endpoint/${kept.endpoint}`)),
      secret: await get(`/api/v1/app/${kept.app}/endpoint/${kept.endpoint}/secret`),
      headers: await get(`/api/v1/app/${kept.app}/endpoint/${kept.endpoint}/headers`),
      messages: await get(`/api/v1/app/${kept.app}/msg?limit=250`),
      eventType: strip(await get(`/api/v1/event-type/${kept.eventType}`)),
    });
  }

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    kept.app = await createApp(server, 'kept', kept.uid);
    assert.equal((await server.api('POST', '/api/v1/event-type', { name: kept.eventType, description: 'kept' })).status, 201);
    const ep = await server.api('POST', `/api/v1/app/${kept.app}/endpoint`, { url: rx.url('/kept'), headers: { 'x-kept': 'yes' } });
    kept.endpoint = ep.body.id;
    for (let i = 0; i < 3; i++) {
      const m = await server.api('POST', `/api/v1/app/${kept.app}/msg`, { eventType: kept.eventType, payload: { i, text: 'accepted before' } });
      assert.equal(m.status, 202);
      kept.message = m.body.id;
    }
    await eventually(() => rx.at('/kept').length >= 3, 'deliveries');
    // A second application the barrage may change at will, so valid ids are exercised too.
    const victim = await createApp(server, 'victim');
    credentials = [server.token, (await createKey(server, ['read', 'write', 'publish'], victim)).key, null, 'sbk_' + 'x'.repeat(43)];
    snapshot = await state();
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('never answers 5xx, whatever the route, and keeps answering', async () => {
    const routes = server.sb.auth.routes().filter((r) => r.method !== 'HEAD');
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    for (const route of routes) {
      const params = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
      const result = await fc.check(
        fc.asyncProperty(requests(route, params.length, credentials.length), async (req) => {
          let i = 0;
          const param = (t: string) => (req.rawParams ? bare(t) : enc(t));
          const path = route.url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, () => param(req.params[i++] ?? '')).replace(/\*/g, param(req.params[0] ?? 'x'));
          const query = req.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
          const headers: Record<string, string> = {};
          const token = credentials[req.credential];
          if (token) headers.authorization = `Bearer ${token}`;
          if (req.idempotencyKey !== null) headers['idempotency-key'] = req.idempotencyKey.replace(/[^\x20-\x7e]/g, '?');
          let payload: string | undefined;
          if (req.body.kind === 'json') {
            headers['content-type'] = 'application/json';
            payload = req.body.text;
          } else if (req.body.kind === 'raw') {
            if (req.body.type) headers['content-type'] = req.body.type;
            payload = req.body.text;
          }
          const res = await server.sb.app.inject({ method: route.method as 'GET', url: path + (query ? '?' + query : ''), headers, payload });
          sent++;
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) {
            failures.push(`${route.method} ${route.url}: ${res.statusCode} ${res.body.slice(0, 200)} for ${JSON.stringify(req).slice(0, 400)}`);
            return false;
          }
          return true;
        }),
        { numRuns: RUNS_PER_ROUTE, seed: SEED, endOnFailure: true },
      );
      if (result.failed && !failures.some((f) => f.startsWith(`${route.method} ${route.url}:`))) {
        failures.push(`${route.method} ${route.url}: ${String(result.errorInstance)} for ${JSON.stringify(result.counterexample).slice(0, 400)}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(sent >= routes.length * RUNS_PER_ROUTE * 0.9, `requests sent: ${sent}`);
    // The barrage reached handlers, not just the front door: some requests were accepted, many refused for their content.
    const count = (f: (s: number) => boolean) => [...statuses].filter(([s]) => f(s)).reduce((n, [, c]) => n + c, 0);
    assert.ok(count((s) => s >= 200 && s < 300) > sent * 0.02, `accepted: ${JSON.stringify([...statuses])}`);
    assert.ok(count((s) => s === 422 || s === 400) > sent * 0.1, `refused as invalid: ${JSON.stringify([...statuses])}`);
    if (process.env.FUZZ_VERBOSE) process.stdout.write(`statuses ${JSON.stringify([...statuses].sort())} of ${sent}\n`);
    assert.equal((await server.api('GET', '/api/v1/health')).status, 204);
  });

  it('answers malformed HTTP with a 4xx or by closing, never a 5xx', async () => {
    const bad = [
      'GET / HTTP/9.9\r\n\r\n',
      'GET\r\n\r\n',
      'BREW /api/v1/app HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /api/v1/app\u0000 HTTP/1.1\r\nhost: x\r\n\r\n',
      'POST /api/v1/app HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n',
      'POST /api/v1/app HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999999999999\r\n\r\n',
      'POST /api/v1/app HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n\r\n',
      'POST /api/v1/app HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /api/v1/app HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n',
      'GET /api/v1/app HTTP/1.1\r\nhost: x\r\nx-a: \u0001\r\n\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
    ];
    for (const payload of bad) {
      const status = await rawHttp(server.url, payload);
      assert.ok(status === 0 || (status >= 400 && status < 500), `${JSON.stringify(payload.slice(0, 60))} -> ${status}`);
    }
    assert.equal((await server.api('GET', '/api/v1/health')).status, 204);
  });

  it('leaves the data accepted before the barrage intact', async () => {
    assert.equal(await state(), snapshot);
    const m = await server.api('GET', `/api/v1/app/${kept.app}/msg/${kept.message}`);
    assert.deepEqual(m.body.payload, { i: 2, text: 'accepted before' });
  });
});

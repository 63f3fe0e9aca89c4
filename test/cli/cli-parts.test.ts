/**
 * Parts of the CLI on their own: the progress bar, tables, time arguments, where the
 * connection comes from, the OpenAPI importer, signature checks; and the rule that every
 * `SWITCHBOARD_*` variable read anywhere is declared in src/config.ts and documented.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_SETTINGS, SETTINGS } from '../../src/config.js';
import { resolveConnection, writeConfigFile } from '../../src/cli/client.js';
import { when } from '../../src/cli/common.js';
import { eventTypesFromOpenApi, parseDocument } from '../../src/catalog/openapi-import.js';
import { table } from '../../src/cli/output.js';
import { ProgressBar } from '../../src/cli/progress.js';
import { check } from '../../src/cli/verify.js';
import { sign } from '../../src/domain/signature.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('progress bar', () => {
  it('draws on a terminal and stays silent otherwise', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 80, write: (s: string) => written.push(s) };
    const bar = new ProgressBar(4, 'resending', tty);
    bar.tick(2);
    assert.match(bar.render(), /^resending \[#+\.+\] 2\/4 50% \d+\.\ds$/);
    bar.tick(2);
    bar.finish();
    const last = written.filter((w) => w.startsWith('\r')).pop()!;
    assert.match(last, /\[#+\] 4\/4 100%/);
    assert.equal(written[written.length - 1], '\n');

    const piped: string[] = [];
    const quiet = new ProgressBar(3, 'x', { write: (s: string) => piped.push(s) });
    quiet.tick(3);
    quiet.finish();
    assert.deepEqual(piped, []);
  });

  it('grows its total when more work appears', () => {
    const bar = new ProgressBar(0, 'recover', { isTTY: true, write: () => true });
    bar.update(1, 5);
    assert.match(bar.render(), /1\/5 20%/);
  });
});

describe('tables', () => {
  it('aligns columns, cuts long cells and says when there are no rows', () => {
    const out = table(
      [
        { a: 'x', b: 'y'.repeat(100) },
        { a: 'longer', b: ['p', 'q'] },
      ],
      [
        { header: 'a', value: (r) => r.a },
        { header: 'bee', value: (r) => r.b, max: 10 },
      ],
    );
    assert.deepEqual(out.split('\n'), ['A       BEE', 'x       yyyyyyyyy\u2026', 'longer  p,q', '']);
    assert.equal(table([], [{ header: 'a', value: () => 1 }]), '(none)\n');
  });
});

describe('time arguments', () => {
  it('takes a date-time or a duration ago', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    assert.equal(when('30m', now), '2024-05-01T11:30:00.000Z');
    assert.equal(when('2d', now), '2024-04-29T12:00:00.000Z');
    assert.equal(when('2024-01-02T03:04:05Z'), '2024-01-02T03:04:05.000Z');
    assert.throws(() => when('soon'), /duration ago/);
  });
});

describe('connection', () => {
  it('takes flags over the environment over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-conn-'));
    try {
      const file = join(dir, 'sub', 'config.json');
      writeConfigFile(file, { server: 'http://file:1', token: 'file-token' });
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const env = { SWITCHBOARD_CLI_CONFIG: file };
      assert.deepEqual(resolveConnection({}, env), { server: 'http://file:1', token: 'file-token' });
      assert.deepEqual(resolveConnection({}, { ...env, SWITCHBOARD_SERVER_URL: 'http://env:2/', SWITCHBOARD_TOKEN: 'env-token' }), { server: 'http://env:2', token: 'env-token' });
      assert.deepEqual(resolveConnection({ server: 'https://flag:3', token: 'flag-token' }, { ...env, SWITCHBOARD_TOKEN: 'env-token' }), { server: 'https://flag:3', token: 'flag-token' });
      assert.deepEqual(resolveConnection({}, { SWITCHBOARD_CLI_CONFIG: join(dir, 'none.json') }), { server: 'http://127.0.0.1:8071', token: undefined });
      writeFileSync(file, '{oops');
      assert.throws(() => resolveConnection({}, env), /not valid JSON/);
      assert.throws(() => resolveConnection({ server: 'ftp://x' }, {}), /not an http\(s\) URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('OpenAPI import', () => {
  it('reads webhooks and x-webhooks, inlines references and survives cycles', () => {
    const doc = parseDocument(
      JSON.stringify({
        openapi: '3.1.0',
        'x-webhooks': { legacy: { post: { 'x-event-type': 'legacy.event', summary: 'old' } } },
        webhooks: {
          'node.changed': {
            post: {
              description: 'a node changed',
              requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } },
            },
          },
          missing: { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } } } },
          empty: {},
        },
        components: { schemas: { Node: { type: 'object', properties: { parent: { $ref: '#/components/schemas/Node' }, id: { type: 'string' } } } } },
      }),
    );
    const r = eventTypesFromOpenApi(doc);
    assert.deepEqual(
      r.eventTypes.map((e) => e.name),
      ['legacy.event', 'node.changed'],
    );
    const node = r.eventTypes[1]!;
    assert.equal(node.description, 'a node changed');
    // The self-reference is cut with an open schema.
    assert.deepEqual(node.schemas, { '1': { type: 'object', properties: { parent: {}, id: { type: 'string' } } } });
    assert.deepEqual(
      r.skipped.map((s) => s.webhook),
      ['missing', 'empty'],
    );
    assert.throws(() => parseDocument('just: yaml'), /not an OpenAPI document/);
    assert.throws(() => parseDocument('{nope'), /not a JSON or YAML document/);
  });
});

describe('signature check', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
  const now = 1_700_000_000_000;
  const ts = String(now / 1000);
  const sig = sign(key, 'msg_1', Number(ts), '{"a":1}');

  it('accepts a good signature among several and refuses anything changed', () => {
    assert.equal(check(secret, 'msg_1', ts, `v1,bm9wZQ== ${sig}`, Buffer.from('{"a":1}'), 300, now), null);
    assert.equal(check(secret, 'msg_2', ts, sig, Buffer.from('{"a":1}'), 300, now), 'no signature matches');
    assert.equal(check(secret, 'msg_1', ts, sig, Buffer.from('{"a":2}'), 300, now), 'no signature matches');
    assert.match(check(secret, 'msg_1', ts, sig, Buffer.from('{"a":1}'), 300, now + 301_000) ?? '', /timestamp/);
    assert.equal(check(secret, 'msg_1', ts, sig, Buffer.from('{"a":1}'), 0, now + 10_000_000), null);
    assert.match(check(secret, 'msg_1', 'abc', sig, Buffer.from('{"a":1}'), 300, now) ?? '', /timestamp/);
  });
});

describe('settings in one place', () => {
  /** Every file under `dir` ending in `.ts`. */
  function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
    });
  }

  it('declares every SWITCHBOARD_* variable the code reads in src/config.ts, and documents it', () => {
    const declared = new Set([...SETTINGS, ...CLIENT_SETTINGS].map((s) => s.env));
    const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
    const undeclared = new Set<string>();
    for (const file of sources(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bSWITCHBOARD_[A-Z0-9_]+\b/g)) if (!declared.has(m[0])) undeclared.add(`${m[0]} (${file.slice(root.length)})`);
    }
    assert.deepEqual([...undeclared], []);
    for (const s of CLIENT_SETTINGS) assert.ok(doc.includes('`' + s.env + '`'), `${s.env} is documented`);
  });
});

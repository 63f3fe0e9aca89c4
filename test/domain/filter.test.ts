/**
 * Content filters: the language (nested paths, arrays, headers, every operator), its
 * validation errors, the ReDoS check of regular expressions, and filters applied on the
 * publish path of a real server (a filtered-out message creates no delivery).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { applyFilters, filterSubject, parseFilter } from '../../src/domain/filter.js';
import type { FilterSubject } from '../../src/domain/filter.js';
import { validateFilter } from '../../src/domain/filter-regex.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const order = {
  type: 'order.created',
  order: {
    id: 'o_1',
    total: 250,
    currency: 'EUR',
    customer: { email: 'Ann@Example.com', vip: true, tags: ['b2b', 'eu'] },
    items: [
      { sku: 'A-1', qty: 2, price: 50 },
      { sku: 'B-7', qty: 1, price: 150 },
    ],
    coupon: null,
  },
};

const subject = (payload: unknown = order, headers: Record<string, string> = {}): FilterSubject =>
  filterSubject(JSON.stringify(payload), 'order.created', ['eu'], headers);

const matches = (f: unknown, s: FilterSubject = subject()): boolean => parseFilter(f).test(s);

/** The 422 issue a bad filter produces. */
function issueOf(f: unknown): { loc: (string | number)[]; msg: string } {
  try {
    parseFilter(f);
  } catch (e: unknown) {
    assert.ok(e instanceof AppError && e.issues?.[0], `a validation error for ${JSON.stringify(f)}`);
    return e.issues[0];
  }
  throw new Error(`expected ${JSON.stringify(f)} to be refused`);
}

describe('filter language', () => {
  it('equality on nested paths, with implicit AND', () => {
    assert.ok(matches({ 'payload.order.currency': 'EUR', 'payload.order.customer.vip': true }));
    assert.ok(!matches({ 'payload.order.currency': 'EUR', 'payload.order.customer.vip': false }));
    assert.ok(matches({ 'payload.order.customer': { email: 'Ann@Example.com', vip: true, tags: ['b2b', 'eu'] } }), 'whole-object equality');
    assert.ok(matches({ eventType: 'order.created', channels: 'eu' }));
    assert.ok(matches({}), 'an empty filter lets everything through');
  });

  it('comparisons, $in, $nin, $ne, $exists and null', () => {
    assert.ok(matches({ 'payload.order.total': { $gt: 100, $lte: 250 } }));
    assert.ok(!matches({ 'payload.order.total': { $gt: 250 } }));
    assert.ok(!matches({ 'payload.order.total': { $gt: '100' } }), 'a number is not compared with a string');
    assert.ok(matches({ 'payload.order.id': { $gte: 'o_0', $lt: 'o_2' } }), 'strings compare lexicographically');
    assert.ok(matches({ 'payload.order.currency': { $in: ['USD', 'EUR'] } }));
    assert.ok(matches({ 'payload.order.currency': { $nin: ['USD', 'GBP'] } }));
    assert.ok(matches({ 'payload.order.currency': { $ne: 'USD' } }));
    assert.ok(matches({ 'payload.order.coupon': { $exists: true }, 'payload.order.refund': { $exists: false } }));
    assert.ok(matches({ 'payload.order.coupon': null }) && matches({ 'payload.order.refund': null }), 'null matches null and missing');
    assert.ok(!matches({ 'payload.order.currency': null }));
  });

  it('arrays: paths look into elements, indexes, $size and $elemMatch', () => {
    assert.ok(matches({ 'payload.order.items.sku': 'B-7' }), 'any element');
    assert.ok(matches({ 'payload.order.customer.tags': 'eu' }), 'array contains');
    assert.ok(matches({ 'payload.order.items.0.sku': 'A-1' }) && !matches({ 'payload.order.items.1.sku': 'A-1' }));
    assert.ok(matches({ 'payload.order.items.price': { $gt: 100 } }));
    assert.ok(matches({ 'payload.order.items': { $size: 2 } }));
    // Without $elemMatch the two conditions may hold on different items; with it, on one.
    assert.ok(matches({ 'payload.order.items.sku': 'A-1', 'payload.order.items.price': 150 }));
    assert.ok(!matches({ 'payload.order.items': { $elemMatch: { sku: 'A-1', price: 150 } } }));
    assert.ok(matches({ 'payload.order.items': { $elemMatch: { sku: 'B-7', price: { $gte: 150 } } } }));
    assert.ok(matches({ 'payload.order.customer.tags': { $elemMatch: { $in: ['eu'] } } }));
    assert.ok(matches({ 'payload.order.customer.tags': ['b2b', 'eu'] }), 'whole-array equality');
  });

  it('logical operators and field-level $not', () => {
    assert.ok(matches({ $or: [{ 'payload.order.total': { $gt: 1000 } }, { 'payload.order.customer.vip': true }] }));
    assert.ok(!matches({ $and: [{ 'payload.order.total': { $gt: 100 } }, { 'payload.order.currency': 'USD' }] }));
    assert.ok(matches({ $not: { 'payload.order.currency': 'USD' } }));
    assert.ok(matches({ 'payload.order.total': { $not: { $lt: 100 } } }));
  });

  it('regular expressions with options', () => {
    assert.ok(matches({ 'payload.order.customer.email': { $regex: '@example\\.com$', $options: 'i' } }));
    assert.ok(!matches({ 'payload.order.customer.email': { $regex: '@example\\.com$' } }));
    assert.ok(matches({ 'payload.order.items.sku': { $regex: '^B-' } }));
  });

  it('headers are matched case-insensitively; a dotted name is escaped', () => {
    const s = subject(order, { 'X-GitHub-Event': 'push', 'x.custom.name': 'v' });
    assert.ok(matches({ 'headers.x-github-event': 'push' }, s));
    assert.ok(matches({ 'headers.X-GitHub-Event': { $in: ['push', 'release'] } }, s));
    assert.ok(matches({ 'headers.x\\.custom\\.name': 'v' }, s));
    assert.ok(!matches({ 'headers.x-github-event': { $exists: true } }), 'no headers: the path is missing');
    assert.ok(matches({ 'headers.__proto__': { $exists: false } }, s));
  });

  it('applyFilters keeps the array untouched and the payload unparsed when no endpoint filters', () => {
    const eps = [{ id: 1 }, { id: 2, filter: null }];
    let built = 0;
    const mk = () => {
      built++;
      return subject();
    };
    assert.equal(applyFilters(eps, mk), eps);
    assert.equal(built, 0);
    const mixed = [{ id: 1 }, { id: 2, filter: { 'payload.order.currency': 'USD' } }, { id: 3, filter: { 'payload.order.currency': 'EUR' } }];
    assert.deepEqual(applyFilters(mixed, mk).map((e) => e.id), [1, 3]);
    assert.equal(built, 1, 'the subject is built once');
  });

  it('refuses bad filters with the location of the problem', () => {
    assert.deepEqual(issueOf({ 'payload.a': { $foo: 1 } }).loc, ['body', 'filter', 'payload.a', '$foo']);
    assert.match(issueOf({ amount: 5 }).msg, /must start with payload, headers, eventType or channels/);
    assert.deepEqual(issueOf({ $or: [{ 'payload.a': 1 }, { 'payload.b': { $in: 3 } }] }).loc, ['body', 'filter', '$or', 1, 'payload.b', '$in']);
    assert.match(issueOf({ $or: [] }).msg, /non-empty array/);
    assert.match(issueOf({ 'payload.a': { $regex: '(' } }).msg, /invalid regular expression/);
    assert.match(issueOf({ 'payload.a': { $regex: 'a', $options: 'g' } }).msg, /\$options/);
    assert.match(issueOf({ 'payload.a': { $gt: 1, b: 2 } }).msg, /cannot mix/);
    assert.match(issueOf({ 'payload.a': { $gt: [1] } }).msg, /number or a string/);
    assert.match(issueOf({ 'payload..a': 1 }).msg, /empty segment/);
    assert.match(issueOf([1]).msg, /JSON object/);
    assert.match(issueOf({ 'payload.a': { $in: Array.from({ length: 600 }, (_, i) => i) } }).msg, /at most/);
    let deep: Record<string, unknown> = { 'payload.a': 1 };
    for (let i = 0; i < 20; i++) deep = { $not: deep };
    assert.match(issueOf(deep).msg, /deeper/);
  });

  it('refuses regular expressions that can take super-linear time (ReDoS)', async () => {
    for (const re of ['(a+)+$', '^(a|a)*$', '\\d+\\d+$', '(\\w+\\s?)*$']) {
      await assert.rejects(validateFilter({ 'payload.s': { $regex: re } }), (e: unknown) => {
        assert.ok(e instanceof AppError);
        assert.deepEqual(e.issues?.[0]?.loc, ['body', 'filter', 'payload.s', '$regex']);
        assert.match(e.message, /(exponential|polynomial) time/);
        return true;
      }, re);
    }
    await validateFilter({ 'payload.type': { $regex: '^order\\.(created|updated)$' }, 'headers.user-agent': { $regex: 'GitHub-Hookshot/', $options: 'i' } });
  });
});

describe('filters on the publish path', () => {
  let server: TestServer;
  let rx: Receiver;
  let appId: string;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    appId = (await server.api('POST', '/api/v1/app', { name: 'filters' })).body.id;
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('validates the filter of an endpoint on create, replace and patch (422 with loc)', async () => {
    const bad = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/bad'), filter: { 'payload.total': { $gt: {} } } });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.detail[0].loc, ['body', 'filter', 'payload.total', '$gt']);
    const redos = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/bad'), filter: { 'payload.s': { $regex: '(a+)+$' } } });
    assert.equal(redos.status, 422);
    assert.match(redos.body.detail[0].msg, /ReDoS/);

    const ok = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/ok'), filterTypes: ['never.sent'], filter: { 'payload.a': 1 } });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.body.filter, { 'payload.a': 1 });
    const patched = await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ok.body.id}`, { filter: { 'payload.a': { $in: 'x' } } });
    assert.equal(patched.status, 422);
    assert.deepEqual(patched.body.detail[0].loc, ['body', 'filter', 'payload.a', '$in']);
    // A replace without `filter` (as SDKs send it) keeps it; null removes it.
    const put = await server.api('PUT', `/api/v1/app/${appId}/endpoint/${ok.body.id}`, { url: rx.url('/ok'), filterTypes: ['never.sent'] });
    assert.deepEqual(put.body.filter, { 'payload.a': 1 });
    const cleared = await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ok.body.id}`, { filter: null });
    assert.equal(cleared.body.filter, undefined);
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/endpoint/${ok.body.id}`)).body.filter, undefined);
  });

  it('delivers only messages the filter lets through; the others get no delivery', async () => {
    const big = await server.api('POST', `/api/v1/app/${appId}/endpoint`, {
      url: rx.url('/big-eu'),
      filterTypes: ['shop.order'],
      filter: { 'payload.order.total': { $gte: 100 }, 'payload.order.items.sku': { $regex: '^B-' }, $not: { 'payload.order.customer.tags': 'test' } },
    });
    const all = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/all'), filterTypes: ['shop.order'] });
    assert.equal(big.status, 201);
    const publish = async (o: Record<string, unknown>) => (await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'shop.order', payload: { order: o } })).body.id as string;
    const m1 = await publish({ total: 250, items: [{ sku: 'A-1' }, { sku: 'B-7' }], customer: { tags: ['eu'] } });
    const m2 = await publish({ total: 50, items: [{ sku: 'B-1' }], customer: { tags: [] } });
    const m3 = await publish({ total: 500, items: [{ sku: 'B-2' }], customer: { tags: ['test'] } });
    const m4 = await publish({ total: 120, items: [{ sku: 'C-2' }] });
    await eventually(() => rx.at('/all').length === 4 && rx.at('/big-eu').length >= 1, 'deliveries');
    const got = rx.at('/big-eu').map((r) => r.headers['webhook-id']);
    assert.deepEqual(got, [m1]);
    for (const m of [m2, m3, m4]) {
      const dest = await server.api('GET', `/api/v1/app/${appId}/msg/${m}/endpoint`);
      assert.deepEqual(dest.body.data.map((d: { id: string }) => d.id), [all.body.id], `${m} has no delivery to the filtered endpoint`);
    }
    // Replay-missing applies the filter too: nothing filtered out comes back.
    const since = new Date(Date.now() - 60_000).toISOString();
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/endpoint/${big.body.id}/replay-missing`, { since })).status, 202);
    await sleep(300); // a window in which no replayed message may arrive
    assert.equal(rx.at('/big-eu').length, 1);
  });
});

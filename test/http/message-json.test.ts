/**
 * The publish answer is written as text with the payload spliced in (`messageJson`): it must
 * be exactly what the response schema's serializer writes from `messageOut`, for every shape
 * of message, so clients (the svix SDK among them) see no difference.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { messageJson, messageOut } from '../../src/http/serialize.js';
import * as S from '../../src/http/schemas.js';
import type { Message } from '../../src/domain/model.js';
import { T0, message } from '../helpers/fixtures.js';

/** What the route's schema serializer writes for `messageOut(m)`. */
async function serialized(m: Message, withContent: boolean): Promise<string> {
  const app = Fastify();
  app.get('/', { schema: { response: { 200: S.messageOut } } }, async () => messageOut(m, withContent));
  const r = await app.inject('/');
  await app.close();
  return r.body;
}

const payloads = [
  JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1', amount: 1200 } }),
  JSON.stringify({ text: 'é ✓ \u2028 "quoted" \\ back', n: [1, 2.5, -3e-7], nested: { deep: [{ a: null }] } }),
  JSON.stringify(JSON.parse('{"__proto__":{"x":1},"constructor":"c"}')),
  JSON.stringify({}),
];

describe('the publish answer as text', () => {
  for (const [i, payload] of payloads.entries()) {
    it(`equals the schema serializer's output, payload ${i + 1}`, async () => {
      const bare = message('app_1', T0 + i, { payload });
      const full = message('app_1', T0 + i, { payload, eventId: 'evt_1', channels: ['a', 'b'], tags: ['t:1'] });
      for (const m of [bare, full]) {
        for (const withContent of [true, false]) {
          assert.equal(messageJson(m, withContent), await serialized(m, withContent));
        }
      }
    });
  }

  it('writes an expunged payload as {}', async () => {
    const m = message('app_1', T0, { payload: null });
    assert.equal(messageJson(m), await serialized(m, true));
    assert.deepEqual(JSON.parse(messageJson(m)).payload, {});
  });
});

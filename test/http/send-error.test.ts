/**
 * `sendError` answers every code of the registry with the registry's status, in the API's
 * error shape; a code outside the registry does not compile.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { FastifyReply } from 'fastify';
import { ERRORS } from '../../src/domain/errors.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import { sendError, sendRaisedClientError } from '../../src/http/errors.js';

async function answer(send: (reply: FastifyReply) => FastifyReply) {
  const app = Fastify();
  app.get('/', async (_req, reply) => send(reply));
  try {
    const res = await app.inject({ method: 'GET', url: '/' });
    return { status: res.statusCode, type: res.headers['content-type'], body: res.json<unknown>() };
  } finally {
    await app.close();
  }
}

describe('sendError', () => {
  it('answers each code with the status of its registry entry', async () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const res = await answer((reply) => sendError(reply, code, 'why'));
      assert.equal(res.status, ERRORS[code], code);
      assert.match(String(res.type), /^application\/json/, code);
      assert.deepEqual(res.body, { code, detail: 'why' }, code);
    }
  });

  it('answers validation issues of a 422 code as `{detail: [issues]}`', async () => {
    const issue = { loc: ['body', 'name'], msg: 'field required', type: 'value_error.missing' };
    const res = await answer((reply) => sendError(reply, 'validation', [issue]));
    assert.equal(res.status, 422);
    assert.deepEqual(res.body, { detail: [issue] });
  });

  it('keeps the status of a client error raised before the API saw the request', async () => {
    const res = await answer((reply) => sendRaisedClientError(reply, 416, 'range not satisfiable'));
    assert.equal(res.status, 416);
    assert.deepEqual(res.body, { code: 'bad_request', detail: 'range not satisfiable' });
  });

  it('takes only codes of the registry, and issues only for 422 codes (checked by the compiler)', () => {
    const typeChecks = (reply: FastifyReply) => {
      // @ts-expect-error: not a code of the registry
      sendError(reply, 'teapot', 'short and stout');
      // @ts-expect-error: a 404 code carries a message, not validation issues
      sendError(reply, 'not_found', [{ loc: ['path'], msg: 'x', type: 'value_error' }]);
    };
    assert.equal(typeof typeChecks, 'function');
  });
});

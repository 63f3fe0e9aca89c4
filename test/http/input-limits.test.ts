/**
 * The input check behind every route (http/input-limits.ts): nesting up to MAX_JSON_DEPTH and
 * finite numbers pass, the first level deeper or an overflowed number is refused with its
 * place, through arrays and objects alike, own keys named `__proto__` included.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, unacceptableInput } from '../../src/http/input-limits.js';

const objects = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
const arrays = (depth: number): unknown => JSON.parse('['.repeat(depth) + '1' + ']'.repeat(depth));

describe('input limits', () => {
  it('takes nesting up to the limit, in objects and arrays', () => {
    assert.equal(unacceptableInput(objects(MAX_JSON_DEPTH), 'body'), null);
    assert.equal(unacceptableInput(arrays(MAX_JSON_DEPTH), 'body'), null);
  });

  it('refuses one level more, naming where', () => {
    const o = unacceptableInput(objects(MAX_JSON_DEPTH + 1), 'body');
    assert.equal(o?.type, 'value_error.depth');
    assert.deepEqual(o?.loc, ['body', ...Array<string>(MAX_JSON_DEPTH).fill('a')]);
    const a = unacceptableInput(arrays(MAX_JSON_DEPTH + 1), 'body');
    assert.equal(a?.type, 'value_error.depth');
    assert.deepEqual(a?.loc, ['body', ...Array<number>(MAX_JSON_DEPTH).fill(0)]);
  });

  it('refuses a number that overflowed, wherever it is', () => {
    const body = JSON.parse('{"ok":[1,2,{"x":3}],"__proto__":{"deep":[0,1e400]}}') as unknown;
    assert.deepEqual(unacceptableInput(body, 'body'), { loc: ['body', '__proto__', 'deep', 1], msg: 'number out of range', type: 'value_error.number' });
    assert.equal(unacceptableInput({ n: -Infinity }, 'query')?.type, 'value_error.number');
    assert.equal(unacceptableInput({ n: Number.NaN }, 'query')?.type, 'value_error.number');
  });

  it('takes ordinary bodies, scalars and nothing', () => {
    for (const v of [{ eventType: 'a.b', payload: { n: 1.5e300, s: 'x', t: true, z: null, l: [1, 'two'] } }, 'text', 7, null, undefined, []]) {
      assert.equal(unacceptableInput(v, 'body'), null);
    }
  });
});

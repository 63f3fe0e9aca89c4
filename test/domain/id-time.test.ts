/** Identifiers carry their creation time: ingest dedupe reads it from a duplicate's id. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { idTime, newId } from '../../src/domain/ids.js';

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

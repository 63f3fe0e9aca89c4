/**
 * The per-credential rate limit and long polls: a poll the server holds waiting for a message
 * gets its token back (how often it comes back is the server's doing), a poll answered at once
 * is counted. The clock stands still, so no token is earned back by time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const BURST = 3;

describe('rate limit of long polls', () => {
  let server: TestServer;
  const clock = new FakeClock();
  let appId: string;
  let pe: string;
  let token: string;

  const poll = async (query: string) => {
    const res = await fetch(`${server.url}/api/v1/app/${appId}/poller/${pe}?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as { iterator: string; data: unknown[] } };
  };

  before(async () => {
    server = await startServer({ SWITCHBOARD_RATE_LIMIT_TOKEN: `1/${BURST}`, SWITCHBOARD_RATE_LIMIT_APP: 'off' }, { clock });
    appId = (await server.api('POST', '/api/v1/app', { name: 'rated-polls' })).body.id;
    pe = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, {})).body.id;
    token = (await server.api('GET', `/api/v1/auth/app/${appId}/poller/${pe}/token`)).body.token;
  });
  after(async () => server.close());

  it('does not count polls held waiting, and counts polls answered at once', async () => {
    let iterator = (await poll('')).body.iterator;
    // Many more held polls than the burst: each waits until the publish that answers it.
    for (let i = 0; i < BURST * 3; i++) {
      const waiting = poll(`iterator=${iterator}&wait=30`);
      await eventually(() => server.sb.pull.heldPolls === 1, 'the poll to be held');
      assert.equal((await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: { i } })).status, 202);
      const r = await waiting;
      assert.equal(r.status, 200, `held poll ${i}`);
      assert.equal(r.body.data.length, 1);
      iterator = r.body.iterator;
    }
    // The first poll took one token; answered at once, the rest of the burst goes, then 429.
    for (let i = 1; i < BURST; i++) assert.equal((await poll('wait=30')).status, 200, `poll ${i} answered at once`);
    assert.equal((await poll('wait=30')).status, 429, 'the burst is spent');
  });
});

/**
 * A slow endpoint never delays others: one endpoint never answers, another answers
 * slowly, and a healthy endpoint of the same application still gets every message
 * while the stuck ones hold only their own concurrency slots.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('isolation between endpoints', () => {
  let server: TestServer;
  let rx: Receiver;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer({ SWITCHBOARD_ENDPOINT_CONCURRENCY: '4', SWITCHBOARD_REQUEST_TIMEOUT_MS: '60000' });
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('delivers every message to the healthy endpoint while another hangs and a third is slow', async () => {
    rx.on('/hang', () => 'hang');
    rx.on('/slow', (_r, res) => void setTimeout(() => res.writeHead(200).end(), 2000));
    const app = (await server.api('POST', '/api/v1/app', { name: 'isolation' })).body.id;
    for (const path of ['/hang', '/slow', '/healthy']) {
      assert.equal((await server.api('POST', `/api/v1/app/${app}/endpoint`, { url: rx.url(path) })).status, 201);
    }
    const N = 200;
    const ids = new Set<string>();
    for (let i = 0; i < N; i++) {
      const r = await server.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'iso.test', payload: { i } });
      assert.equal(r.status, 202);
      ids.add(r.body.id);
    }
    await eventually(() => rx.at('/healthy').length >= N, 'all messages at the healthy endpoint');
    // While the healthy endpoint got all N, the stuck ones were held to their own cap.
    assert.equal(rx.at('/hang').length, 4, 'the hanging endpoint holds exactly its concurrency cap');
    assert.deepEqual(new Set(rx.at('/healthy').map((r) => r.headers['webhook-id'])), ids);
  });
});

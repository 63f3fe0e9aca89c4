/**
 * No public URL: a consumer behind a firewall cannot receive webhooks, but it can ask. It
 * reads the same events three ways, each with a credential limited to what it needs:
 *
 *   - long polling a polling endpoint's consumer (`wait=`; the server keeps the position);
 *   - Server-Sent Events from another consumer of the same polling endpoint;
 *   - `switchboard listen`, which turns the message stream back into signed webhooks for a
 *     local server.
 *
 *   node examples/no-public-url/run.mjs
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { SWITCHBOARD_BIN, check, example, waitFor } from '../common.mjs';

const EVENTS = 5;

await example('no-public-url', {}, async ({ url, svix, api, receiver, defer }) => {
  const app = await svix.application.create({ name: 'Warehouse feed' });

  // A polling endpoint for the consumer, and its token: it can read this endpoint, nothing else.
  const poller = await api('POST', `/api/v1/app/${app.id}/polling-endpoint`, { uid: 'warehouse', filterTypes: ['order.created'] });
  const { token: pollerToken } = await api('GET', `/api/v1/auth/app/${app.id}/poller/${poller.id}/token`);
  const read = async (path) => {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${pollerToken}` } });
    check(res.ok, `GET ${path} answered ${res.status}`);
    return res;
  };

  // --- 1. Long polling: an empty answer is held up to `wait` seconds until something is published.
  async function longPoll() {
    const got = [];
    let iterator = '';
    while (got.length < EVENTS) {
      // Passing back the previous iterator also commits it: the server remembers where we are.
      const res = await read(`/api/v1/app/${app.id}/poller/warehouse/consumer/long-poll?wait=20${iterator && `&iterator=${iterator}`}`);
      const page = await res.json();
      got.push(...page.data.map((m) => m.id));
      iterator = page.iterator;
    }
    return got;
  }

  // --- 2. Server-Sent Events: one request, events as they are published.
  async function serverSentEvents() {
    const got = [];
    const ac = new AbortController();
    const res = await fetch(`${url}/api/v1/app/${app.id}/poller/warehouse/consumer/sse/stream`, {
      headers: { authorization: `Bearer ${pollerToken}`, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    check(res.ok, `the stream answered ${res.status}`);
    let buffered = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const lines = buffered.slice(0, end).split('\n');
        buffered = buffered.slice(end + 2);
        // Messages are unnamed events; the first event, `position`, only carries the start position.
        if (lines.some((l) => l.startsWith('event: '))) continue;
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data) got.push(JSON.parse(data).id);
      }
      if (got.length >= EVENTS) break;
    }
    ac.abort();
    return got;
  }

  // --- 3. switchboard listen: forwards each message, signed with its own secret, to a local server.
  const local = { secret: null, got: [] };
  const localServer = await receiver(({ headers, body }) => {
    new Webhook(local.secret).verify(body, headers);
    local.got.push(headers['webhook-id']);
    return 200;
  });
  const readKey = await api('POST', '/api/v1/api-key', { name: 'warehouse listen', appId: app.id, scopes: ['read'] });
  const stateDir = mkdtempSync(join(tmpdir(), 'switchboard-listen-'));
  const listen = spawn(
    process.execPath,
    [SWITCHBOARD_BIN, 'listen', '--app', app.id, '--forward-to', `${localServer.url}/webhooks`, '--server', url, '--token', readKey.key, '--state', join(stateDir, 'listen.json')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => listen.once('exit', resolve));
  defer(async () => {
    listen.kill('SIGTERM');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  });
  const listenOutput = [];
  listen.stdout.setEncoding('utf8');
  listen.stdout.on('data', (d) => listenOutput.push(...d.split('\n').filter(Boolean)));
  // It prints its signing secret first, then "Connected" once the stream is open.
  await waitFor('switchboard listen to connect', () => listenOutput.some((l) => l.startsWith('Connected to')) || listen.exitCode !== null);
  check(listen.exitCode === null, `switchboard listen stopped:\n${listenOutput.join('\n')}`);
  local.secret = listenOutput.map((l) => /^Signing secret: (whsec_\S+)/.exec(l)?.[1]).find(Boolean);

  // --- The warehouse's orders are published while the three readers wait.
  const readers = Promise.all([longPoll(), serverSentEvents()]);
  const published = [];
  for (let n = 1; n <= EVENTS; n++) {
    const msg = await svix.message.create(app.id, { eventType: 'order.created', payload: { orderId: `ord_${n}`, lines: n } });
    published.push(msg.id);
  }
  const [byLongPoll, bySse] = await readers;
  await waitFor('switchboard listen to forward every order', () => local.got.length >= EVENTS);

  const same = (ids) => JSON.stringify(ids) === JSON.stringify(published);
  check(same(byLongPoll), `long polling read ${byLongPoll}, published ${published}`);
  check(same(bySse), `the stream read ${bySse}, published ${published}`);
  check(same(local.got), `switchboard listen forwarded ${local.got}, published ${published}`);
  return `${EVENTS} orders read in publish order by long polling, by Server-Sent Events and through switchboard listen (signed, verified)`;
});

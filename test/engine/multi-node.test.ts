/**
 * Three Switchboard nodes, each its own process, sharing one PostgreSQL schema: a long poll
 * on one node answers a publish on another, a poller token rotated away on one node ends on
 * the others, an endpoint's rate limit holds for all of them together, and killing one with
 * SIGKILL under load loses no accepted message, nor killing nodes one after another while
 * replacements join.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { Webhook } from 'standardwebhooks';
import { eventually } from '../helpers/eventually.js';
import { createTestSchema, TEST_DATABASE_URL } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { callServer, startServerProcess } from '../helpers/process.js';
import type { ServerProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

const TOKEN = 'sb_multi_node_test_token';
const CONCURRENCY = 10;

interface Node extends ServerProcess {
  name: string;
}

async function startNode(name: string, schema: TestSchema, dataDir: string): Promise<Node> {
  const node = await startServerProcess({
    args: ['--role', 'all'],
    readyPath: '/api/v1/health/ready',
    env: {
      SWITCHBOARD_DATABASE_URL: schema.url,
      SWITCHBOARD_DATABASE_POOL: '4',
      // Shared, so every node opens the secrets another sealed (the key file is made once).
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_TOKEN: TOKEN,
      SWITCHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8',
      SWITCHBOARD_RETRY_SCHEDULE: '0.2,0.5,1,1,1',
      SWITCHBOARD_REQUEST_TIMEOUT_MS: '2000',
      // A dead node's deliveries are sent again 4 s after it took them.
      SWITCHBOARD_LEASE_GRACE_MS: '2000',
      SWITCHBOARD_ENDPOINT_CONCURRENCY: String(CONCURRENCY),
      SWITCHBOARD_RATE_LIMIT_TOKEN: 'off',
      SWITCHBOARD_RATE_LIMIT_APP: 'off',
      SWITCHBOARD_LOG_LEVEL: 'error',
    },
    stderr: 'inherit',
  });
  return Object.assign(node, { name });
}

const call = (base: string, method: string, path: string, body?: unknown) => callServer(base, TOKEN, method, path, body);

/** Long polls waiting on a node, from its metrics. */
async function waitingPolls(base: string): Promise<number> {
  const text = await (await fetch(base + '/metrics')).text();
  return Number(/^switchboard_open_connections\{kind="long_poll"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('three nodes on one PostgreSQL database', { skip: skipWithoutPostgres }, () => {
  let schema: TestSchema;
  let dataDir: string;
  let rx: Receiver;
  let nodes: Node[] = [];

  before(async () => {
    schema = await createTestSchema('sbnodes');
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-nodes-'));
    rx = await new Receiver().start();
    // Migrated once here (concurrent migrations are tested in postgres-store.test.ts), so the
    // nodes start quickly.
    await schema.store(1).migrate();
    nodes = await Promise.all(['a', 'b', 'c'].map((n) => startNode(n, schema, dataDir)));
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await rx.close();
    await schema.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers a long poll on one node when a message is published on another', async () => {
    const [a, b] = nodes as [Node, Node];
    const app = (await call(b.base, 'POST', '/api/v1/app', { name: 'long-poll' })).body.id as string;
    const poll = call(a.base, 'GET', `/api/v1/app/${app}/msg?wait=20`);
    // Once the poll has found the list empty and waits, the publish wakes it wherever it waits.
    await eventually(async () => (await waitingPolls(a.base)) >= 1, 'the long poll to wait');
    const published = await call(b.base, 'POST', `/api/v1/app/${app}/msg`, { eventType: 'cross.node', payload: { n: 1 } });
    assert.equal(published.status, 202);
    const answer = await poll;
    assert.equal(answer.status, 200);
    // Answered by the publish: a poll that ran out its 20 s would have answered an empty page.
    assert.deepEqual(answer.body.data.map((m: { id: string }) => m.id), [published.body.id]);
  });

  it('ends a poller token rotated away on one node on the others too', async () => {
    const [a, b] = nodes as [Node, Node];
    const app = (await call(a.base, 'POST', '/api/v1/app', { name: 'rotated-poller' })).body.id as string;
    const pe = (await call(a.base, 'POST', `/api/v1/app/${app}/polling-endpoint`, {})).body.id as string;
    const old = (await call(a.base, 'GET', `/api/v1/auth/app/${app}/poller/${pe}/token`)).body.token as string;
    const pollOn = async (base: string, token: string) => (await fetch(`${base}/api/v1/app/${app}/poller/${pe}`, { headers: { authorization: `Bearer ${token}` } })).status;
    assert.equal(await pollOn(a.base, old), 200, 'node a has looked the token up');
    const rotated = await call(b.base, 'POST', `/api/v1/auth/app/${app}/poller/${pe}/token/rotate`, { oldTokenExpiry: 0 });
    assert.equal(rotated.status, 201);
    assert.equal(await pollOn(b.base, old), 401, 'at once on the node that rotated it');
    // Node a forgets its lookup when the notice arrives (in any case within a second).
    await eventually(async () => (await pollOn(a.base, old)) === 401, 'the old token to be refused by node a');
    assert.equal(await pollOn(a.base, rotated.body.token as string), 200);
  });

  it('holds an endpoint rate limit across nodes that all send', async () => {
    const RATE = 10;
    const TOTAL = 50;
    const app = (await call(nodes[0]!.base, 'POST', '/api/v1/app', { name: 'rated' })).body.id as string;
    const ep = await call(nodes[0]!.base, 'POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/rated'), rateLimit: RATE });
    assert.equal(ep.status, 201);
    // Published on all three nodes at once: each one claims and sends what it published.
    await Promise.all(
      Array.from({ length: TOTAL }, async (_, i) => {
        const r = await call(nodes[i % 3]!.base, 'POST', `/api/v1/app/${app}/msg`, { eventType: 'rated', payload: { i } });
        assert.equal(r.status, 202);
      }),
    );
    await eventually(() => rx.at('/rated').length >= TOTAL, 'every rated message');
    const times = rx.at('/rated').map((r) => r.at).sort((x, y) => x - y);
    // A bucket holds a twentieth of a second of tokens: in any 1 s window at most burst + rate, plus slack
    // for the time between a claim and its request reaching the receiver.
    let busiest = 0;
    for (let i = 0; i < times.length; i++) busiest = Math.max(busiest, times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length);
    assert.ok(busiest <= 2 * RATE + 5, `at most ${2 * RATE + 5} requests in any second, saw ${busiest}`);
    const span = times[times.length - 1]! - times[0]!;
    assert.ok(span >= ((TOTAL - 2 * RATE) / RATE) * 1000, `${TOTAL} requests at ${RATE}/s take time (${span} ms)`);
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema.schema } });
    try {
      const [row] = await sql`SELECT tokens FROM endpoint_limits WHERE endpoint_id = ${ep.body.id as string}`;
      const tokens = Number(row?.tokens);
      assert.ok(tokens >= 0 && tokens <= RATE, `the shared bucket holds between 0 and ${RATE} tokens (${tokens})`);
    } finally {
      await sql.end();
    }
  });

  it('loses no accepted message when a node is killed under load', async (t) => {
    const [a] = nodes as [Node, Node, Node];
    const app = (await call(a.base, 'POST', '/api/v1/app', { name: 'kill' })).body.id as string;
    rx.on('/slow', (_r, res) => void setTimeout(() => res.writeHead(200).end(), 30));
    const secrets: Record<string, string> = {};
    for (const path of ['/fast', '/slow']) {
      const ep = (await call(a.base, 'POST', `/api/v1/app/${app}/endpoint`, { url: rx.url(path) })).body.id as string;
      secrets[path] = (await call(a.base, 'GET', `/api/v1/app/${app}/endpoint/${ep}/secret`)).body.key as string;
    }
    const victim = nodes[2]!;
    const accepted = new Set<string>();
    const giveUpAt = Date.now() + 40_000;
    const publisher = async (w: number): Promise<void> => {
      for (let i = 0; accepted.size < 400 && Date.now() < giveUpAt; i++) {
        const node = nodes[(w + i) % 3]!;
        try {
          const r = await call(node.base, 'POST', `/api/v1/app/${app}/msg`, { eventType: 'kill.test', payload: { w, i } });
          if (r.status === 202) accepted.add(r.body.id as string);
        } catch {
          // That node is gone: this message was not accepted; the next goes elsewhere.
        }
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, w) => publisher(w)));
    // Kill one node with publishes and deliveries in flight; publishing goes on on the others.
    await eventually(() => accepted.size >= 200, '200 accepted messages before the kill', { timeoutMs: 40_000, intervalMs: 5 });
    await victim.stop('SIGKILL');
    await load;
    assert.ok(accepted.size >= 300, `enough load around the kill (${accepted.size} accepted)`);
    t.diagnostic(`accepted: ${accepted.size}; received before recovery: ${rx.received.length}`);

    for (const path of ['/fast', '/slow']) {
      const seen = (): Set<string> => new Set(rx.at(path).map((r) => r.headers['webhook-id'] as string));
      await eventually(() => [...accepted].every((id) => seen().has(id)), `every accepted message at ${path}`, { timeoutMs: 45_000 });
      const wh = new Webhook(secrets[path]!);
      const bodies = new Map<string, string>();
      const twice = new Set<string>();
      for (const r of rx.at(path)) {
        assert.ok(wh.verify(r.body, r.headers as Record<string, string>));
        const id = r.headers['webhook-id'] as string;
        const prev = bodies.get(id);
        if (prev === undefined) bodies.set(id, r.body);
        else {
          twice.add(id);
          assert.equal(r.body, prev, 'a redelivery carries the same message under the same webhook-id');
        }
      }
      // A message arrives twice after a failed attempt (a retry: the receiver may have been too
      // slow to answer in time on a loaded machine), or because the dead node had it in flight:
      // at most the endpoint's concurrency cap of those.
      let byKill = 0;
      for (const id of twice) {
        const attempts = await call(a.base, 'GET', `/api/v1/app/${app}/attempt/msg/${id}?limit=50`);
        const failed = (attempts.body.data as { url: string; status: number }[]).some((x) => x.url === rx.url(path) && x.status !== 0);
        if (!failed) byKill++;
      }
      assert.ok(byKill <= CONCURRENCY, `${path}: ${byKill} redeliveries of attempts in flight at the kill`);
      t.diagnostic(`${path}: ${rx.at(path).length} requests, ${twice.size} messages twice, ${byKill} of them in flight at the kill`);
    }
  });
  it('loses no accepted message when nodes are killed one after another and replaced', async (t) => {
    const alive = (): Node[] => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
    const first = alive()[0]!;
    const app = (await call(first.base, 'POST', `/api/v1/app`, { name: 'kill-twice' })).body.id as string;
    assert.equal((await call(first.base, 'POST', `/api/v1/app/${app}/endpoint`, { url: rx.url('/kill-twice') })).status, 201);
    const accepted = new Set<string>();
    let stopped = false;
    const publisher = async (w: number): Promise<void> => {
      for (let i = 0; !stopped; i++) {
        const live = alive();
        const node = live[(w + i) % live.length]!;
        try {
          const r = await call(node.base, 'POST', `/api/v1/app/${app}/msg`, { eventType: 'kill.twice', payload: { w, i } });
          if (r.status === 202) accepted.add(r.body.id as string);
        } catch {
          // That node is gone: this message was not accepted.
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, (_, w) => publisher(w)));
    try {
      for (const round of [1, 2]) {
        const before = accepted.size;
        await eventually(() => accepted.size >= before + 60, `60 more accepted messages before kill ${round}`, { timeoutMs: 40_000, intervalMs: 5 });
        // A replacement joins first, then the oldest live node dies with deliveries in flight.
        const replacement = await startNode(`r${round}`, schema, dataDir);
        nodes.push(replacement);
        const victim = alive().find((n) => n !== replacement)!;
        await victim.stop('SIGKILL');
      }
      const before = accepted.size;
      await eventually(() => accepted.size >= before + 30, 'publishing going on after the kills', { timeoutMs: 40_000, intervalMs: 5 });
    } finally {
      stopped = true;
      await load;
    }
    const seen = (): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const r of rx.at('/kill-twice')) counts.set(r.headers['webhook-id'] as string, (counts.get(r.headers['webhook-id'] as string) ?? 0) + 1);
      return counts;
    };
    await eventually(() => [...accepted].every((id) => seen().has(id)), 'every accepted message delivered', { timeoutMs: 60_000 });
    const twice = [...seen()].filter(([, n]) => n > 1).map(([id]) => id);
    // A message arrives twice after a failed attempt (a retry on a loaded machine), or because a
    // dead node had it in flight: at most the endpoint's cap of those per kill.
    let byKill = 0;
    for (const id of twice) {
      const attempts = await call(alive()[0]!.base, 'GET', `/api/v1/app/${app}/attempt/msg/${id}?limit=50`);
      if (!(attempts.body.data as { status: number }[]).some((x) => x.status !== 0)) byKill++;
    }
    t.diagnostic(`accepted: ${accepted.size}; requests: ${rx.at('/kill-twice').length}; delivered more than once: ${twice.length}, ${byKill} of them in flight at a kill`);
    assert.ok(byKill <= 2 * CONCURRENCY, `${byKill} redeliveries of attempts in flight at the two kills`);
  });
});

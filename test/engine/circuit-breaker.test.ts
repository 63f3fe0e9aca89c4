/**
 * Circuit breakers, end to end: a real server on a FakeClock, a real receiver on loopback, a
 * real SQLite file. The circuit opens after N failures, sends nothing while open, lets one
 * probe through after the cool-down, reopens for longer when the probe fails, closes when one
 * succeeds, and neither loses deliveries nor uses their attempts meanwhile. An origin's circuit
 * opens on failures of two endpoints there that show the host down (503 here), never on 500s. The API route and the metrics show it all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, sleep } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const DAY = 86_400_000;
const COOLDOWN = 60_000;

describe('circuit breakers', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rx: Receiver;
  let appId: string;

  before(async () => {
    clock = new FakeClock();
    rx = await new Receiver().start();
    server = await startServer(
      {
        SWITCHBOARD_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1',
        SWITCHBOARD_REQUEST_TIMEOUT_MS: '2000',
        SWITCHBOARD_CIRCUIT_FAILURES: '3',
        SWITCHBOARD_CIRCUIT_COOLDOWN_MS: String(COOLDOWN),
        SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_MS: String(3 * COOLDOWN),
      },
      { clock, random: () => 0.5, sweepIntervalMs: 10 * DAY },
    );
    appId = (await server.api('POST', '/api/v1/app', { name: 'circuits' })).body.id;
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  const typeFor = (path: string) => 'test' + path.replace(/\//g, '.');

  async function endpoint(url: string, path: string): Promise<string> {
    const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url, filterTypes: [typeFor(path)] });
    assert.equal(ep.status, 201);
    return ep.body.id;
  }

  async function publish(path: string): Promise<string> {
    const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: typeFor(path), payload: { n: Math.random() } });
    assert.equal(r.status, 202);
    return r.body.id;
  }

  const circuit = async (ep: string) => {
    const r = await server.api('GET', `/api/v1/app/${appId}/endpoint/${ep}/circuit`);
    assert.equal(r.status, 200);
    return r.body;
  };
  const attempts = async (msg: string) => ((await server.api('GET', `/api/v1/app/${appId}/attempt/msg/${msg}`)).body.data as any[]).length;
  const statusOf = async (msg: string, ep: string) => ((await server.api('GET', `/api/v1/app/${appId}/msg/${msg}/endpoint`)).body.data as any[]).find((d) => d.id === ep)?.status;

  /** Moves the clock in steps of a retry delay, letting the server act between them. */
  async function advance(ms: number, step = 1_500): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      clock.advance(Math.min(step, ms - done));
      await sleep(30);
    }
  }

  it('opens after N failures, sends nothing while open, probes, reopens for longer, closes on success, and loses nothing', async () => {
    let up = false;
    rx.on('/down', (_r, res) => void (up ? res.writeHead(200).end() : res.writeHead(500).end('down')));
    const ep = await endpoint(rx.url('/down'), '/down');
    assert.deepEqual((await circuit(ep)).endpoint, { state: 'closed', consecutiveFailures: 0, openedAt: null, nextProbeAt: null });

    const first = [await publish('/down'), await publish('/down'), await publish('/down')];
    await eventually(() => rx.at('/down').length === 3, 'three failed first attempts');
    const opened = await eventually(async () => {
      const c = await circuit(ep);
      return c.endpoint.state === 'open' ? c : null;
    }, 'the circuit to open');
    assert.equal(opened.endpoint.consecutiveFailures, 3);
    assert.equal(Date.parse(opened.endpoint.nextProbeAt) - Date.parse(opened.endpoint.openedAt), COOLDOWN);

    // Open: retries fall due and new messages come, but nothing is sent and no attempt is used.
    const later = [await publish('/down'), await publish('/down')];
    await advance(COOLDOWN - 5_000);
    await sleep(200);
    assert.equal(rx.at('/down').length, 3, 'no request while the circuit is open');
    for (const m of first) assert.equal(await attempts(m), 1);
    for (const m of later) assert.equal(await attempts(m), 0);
    for (const m of [...first, ...later]) assert.equal(await statusOf(m, ep), 1, 'still pending');

    // Cool-down over: exactly one probe, which fails: open again, for twice as long.
    await advance(10_000);
    await eventually(() => rx.at('/down').length === 4, 'one probe');
    const reopened = await eventually(async () => {
      const c = await circuit(ep);
      return c.endpoint.state === 'open' && c.endpoint.openedAt !== opened.endpoint.openedAt ? c : null;
    }, 'the circuit to reopen');
    assert.equal(Date.parse(reopened.endpoint.nextProbeAt) - Date.parse(reopened.endpoint.openedAt), 2 * COOLDOWN);
    await advance(COOLDOWN);
    await sleep(200);
    assert.equal(rx.at('/down').length, 4, 'no request before the longer cool-down ends');

    // The receiver is back: the next probe succeeds, the circuit closes, and everything waiting is delivered.
    up = true;
    await advance(COOLDOWN + 5_000);
    for (const m of [...first, ...later]) await eventually(async () => (await statusOf(m, ep)) === 0, `delivery of ${m}`);
    // A circuit learns of an attempt once its record is written, which the API can show a moment earlier.
    await eventually(async () => (await circuit(ep)).endpoint.state === 'closed', 'the circuit to close');
    // Attempts were only used by requests made: three failures, the failed probe, then one success per message.
    assert.equal(rx.at('/down').length, 3 + 1 + 5);
    let total = 0;
    for (const m of [...first, ...later]) total += await attempts(m);
    assert.equal(total, 3 + 1 + 5, 'no attempt was used while the circuit was open');

    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.token}` } })).text();
    assert.match(metrics, /switchboard_circuit_transitions_total\{kind="endpoint",to="open"\} 2/);
    assert.match(metrics, /switchboard_circuit_transitions_total\{kind="endpoint",to="half_open"\} 2/);
    assert.match(metrics, /switchboard_circuit_transitions_total\{kind="endpoint",to="closed"\} 1/);
    assert.match(metrics, /switchboard_circuits\{kind="endpoint",state="open"\} 0/);
  });

  /**
   * A second receiver, one origin, with three endpoints on it under `/<name>/`: a and b answer
   * `status`, c answers 200. Closed by `run` when it ends.
   */
  async function onHost(name: string, status: number, run: (host: Receiver, eps: { a: string; b: string; c: string }) => Promise<void>): Promise<void> {
    const host = await new Receiver().start();
    try {
      host.on('/a', (_r, res) => void res.writeHead(status).end());
      host.on('/b', (_r, res) => void res.writeHead(status).end());
      const a = await endpoint(host.url('/a'), `/${name}/a`);
      const b = await endpoint(host.url('/b'), `/${name}/b`);
      const c = await endpoint(host.url('/c'), `/${name}/c`);
      await run(host, { a, b, c });
    } finally {
      await host.close();
    }
  }

  it("opens an origin's circuit when two of its endpoints fail, and holds the origin's other endpoints", async () => {
    // A second receiver that refuses nothing but answers 503 on every path: one dead origin.
    await onHost('origin', 503, async (dead, { a, b, c }) => {
      await publish('/origin/a');
      await publish('/origin/b');
      await publish('/origin/a');
      await eventually(() => dead.received.length === 3, 'three failures on the origin');
      const shown = await eventually(async () => {
        const s = await circuit(c);
        return s.origin?.state === 'open' ? s : null;
      }, "the origin's circuit to open");
      assert.equal(shown.origin.origin, `http://127.0.0.1:${dead.port}`);
      assert.equal(shown.origin.consecutiveFailures, 3);
      assert.equal(shown.endpoint.state, 'closed', "c's own circuit never failed");
      assert.equal((await circuit(a)).endpoint.consecutiveFailures, 2);
      assert.equal((await circuit(b)).endpoint.state, 'closed');

      const msg = await publish('/origin/c');
      await sleep(300);
      assert.equal(dead.at('/c').length, 0, 'nothing is sent to the open origin');
      assert.equal(await statusOf(msg, c), 1, 'the delivery waits, pending');
      // The probe after the cool-down goes to whichever endpoint is due; c answers 200 and closes the origin.
      dead.on('/a', (_r, res) => void res.writeHead(200).end());
      dead.on('/b', (_r, res) => void res.writeHead(200).end());
      await advance(COOLDOWN + 5_000);
      // The injected clock keeps moving while the test waits: on a busy machine the probe's real
      // request can outlast the steps above, and what waits behind it is then due on a later timer.
      await eventually(async () => {
        clock.advance(1_000);
        return (await statusOf(msg, c)) === 0;
      }, 'the waiting delivery to c');
      await eventually(async () => (await circuit(c)).origin.state === 'closed', "the origin's circuit to close");
    });
  });

  it("keeps an origin's circuit closed while endpoints there answer 500, so the host's other endpoints are not held", async () => {
    // One host many tenants share: two endpoints' handlers fail, the host itself is up.
    await onHost('shared', 500, async (shared, { a, b, c }) => {
      for (let i = 0; i < 3; i++) {
        await publish('/shared/a');
        await publish('/shared/b');
      }
      await eventually(async () => (await circuit(a)).endpoint.state === 'open' && (await circuit(b)).endpoint.state === 'open', "both failing endpoints' circuits to open");
      const host = await circuit(c);
      assert.equal(host.origin.state, 'closed', 'six 500s from two endpoints in a row: the host answered every time');
      assert.equal(host.origin.consecutiveFailures, 0);
      const msg = await publish('/shared/c');
      await eventually(() => shared.at('/c').length === 1, 'the third endpoint on the host gets its delivery at once');
      await eventually(async () => (await statusOf(msg, c)) === 0, 'and it is delivered');
    });
  });

  it('answers 404 for an unknown application or endpoint', async () => {
    const ep = await endpoint(rx.url('/x'), '/x');
    const noApp = await server.api('GET', `/api/v1/app/app_missing/endpoint/${ep}/circuit`);
    assert.equal(noApp.status, 404);
    const noEp = await server.api('GET', `/api/v1/app/${appId}/endpoint/ep_missing/circuit`);
    assert.equal(noEp.status, 404);
    const other = (await server.api('POST', '/api/v1/app', { name: 'other' })).body.id;
    assert.equal((await server.api('GET', `/api/v1/app/${other}/endpoint/${ep}/circuit`)).status, 404, "another application's endpoint");
  });
});

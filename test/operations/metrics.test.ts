/**
 * `/metrics` against a real server on an injected clock: publish, deliver, retry, exhaust,
 * queue depth and age, endpoint state changes, HTTP timings, process metrics, and the
 * counters features call. Labels never carry ids.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabelGuard, MAX_LABEL_VALUES } from '../../src/operations/metrics.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

/** The value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('Prometheus metrics', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rx: Receiver;
  let appId: string;
  const scrape = async (): Promise<string> => {
    const res = await fetch(server.url + '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const publish = async (type: string, n = 1): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: type, payload: { i } });
      assert.equal(r.status, 202);
      ids.push(r.body.id);
    }
    return ids;
  };
  const attempts = async (msgId: string): Promise<any[]> => (await server.api('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}`)).body.data;

  before(async () => {
    clock = new FakeClock(1_700_000_000_000);
    rx = await new Receiver().start();
    rx.on('/fail', (_r, res) => void res.writeHead(500).end('no'));
    rx.on('/hang', () => 'hang');
    server = await startServer(
      { SWITCHBOARD_RETRY_SCHEDULE: '5', SWITCHBOARD_ENDPOINT_CONCURRENCY: '1', SWITCHBOARD_REQUEST_TIMEOUT_MS: '60000' },
      { clock, random: () => 0.5, sweepIntervalMs: 10 * 86_400_000 },
    );
    appId = (await server.api('POST', '/api/v1/app', { name: 'metrics' })).body.id;
    for (const p of ['ok', 'fail', 'hang']) {
      const r = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/' + p), filterTypes: [`m.${p}`] });
      assert.equal(r.status, 201);
    }
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('counts accepted messages, attempts by outcome and their durations', async () => {
    await publish('m.ok', 2);
    await eventually(() => rx.at('/ok').length === 2, 'two deliveries');
    await server.sb.dispatcher.idle();
    const text = await scrape();
    assert.equal(sample(text, 'switchboard_messages_accepted_total'), 2);
    assert.equal(sample(text, 'switchboard_delivery_attempts_total', { outcome: 'delivered', status_class: '2xx', trigger: 'scheduled' }), 2);
    assert.equal(sample(text, 'switchboard_delivery_attempt_duration_seconds_count', { outcome: 'delivered' }), 2);
    assert.equal(sample(text, 'switchboard_deliveries_total', { outcome: 'delivered' }), 2);
  });

  it('reports queue depth by state and the age of the oldest due delivery', async () => {
    const [failed] = await publish('m.fail');
    await eventually(async () => (await attempts(failed!)).length === 1, 'first failed attempt');
    await publish('m.hang', 3);
    await eventually(() => rx.at('/hang').length === 1, 'the hanging request');
    clock.advance(3000);
    const text = await eventually(async () => {
      const t = await scrape();
      // The attempt counter moves once the attempt's record is written, which the API can show a moment earlier.
      const counted = sample(t, 'switchboard_delivery_attempts_total', { outcome: 'retry', status_class: '5xx', trigger: 'scheduled' }) === 1;
      return sample(t, 'switchboard_queue_deliveries', { state: 'due' }) === 2 && counted ? t : null;
    }, 'two due deliveries and the failed attempt counted');
    assert.equal(sample(text, 'switchboard_queue_deliveries', { state: 'scheduled' }), 1);
    assert.equal(sample(text, 'switchboard_queue_deliveries', { state: 'sending' }), 1);
    assert.equal(sample(text, 'switchboard_queue_oldest_due_age_seconds'), 3);
    assert.equal(sample(text, 'switchboard_inflight_deliveries'), 1);
    assert.equal(sample(text, 'switchboard_delivery_attempts_total', { outcome: 'retry', status_class: '5xx', trigger: 'scheduled' }), 1);
  });

  it('counts a delivery that exhausted its retries as failed', async () => {
    clock.advance(5000);
    const text = await eventually(async () => {
      const t = await scrape();
      return sample(t, 'switchboard_deliveries_total', { outcome: 'failed' }) === 1 ? t : null;
    }, 'an exhausted delivery');
    assert.equal(sample(text, 'switchboard_delivery_attempts_total', { outcome: 'failed', status_class: '5xx', trigger: 'scheduled' }), 1);
    assert.equal(sample(text, 'switchboard_queue_deliveries', { state: 'scheduled' }), 0);
  });

  it('counts endpoint state changes', async () => {
    const ep = (await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/spare') })).body;
    await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}`, { disabled: true });
    await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}`, { disabled: false });
    const text = await scrape();
    assert.equal(sample(text, 'switchboard_endpoint_state_changes_total', { kind: 'disabled', trigger: 'manual' }), 1);
    assert.equal(sample(text, 'switchboard_endpoint_state_changes_total', { kind: 'enabled', trigger: 'manual' }), 1);
  });

  it('times HTTP requests by route pattern, and includes process metrics', async () => {
    const text = await scrape();
    assert.ok((sample(text, 'switchboard_http_requests_total', { method: 'POST', route: '/api/v1/app/:app_id/msg', status_class: '2xx' }) ?? 0) >= 6);
    assert.ok((sample(text, 'switchboard_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/app/:app_id/msg' }) ?? 0) >= 6);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(sample(text, name) !== undefined, name);
    }
  });

  it('exposes the counters and gauges features call', async () => {
    const m = server.sb.metrics;
    m.ingestAccepted('stripe');
    m.ingestAccepted('stripe', true);
    m.ingestRejected('github', 'signature');
    m.sourceRun('poll', 'changed');
    m.sourceRun('poll', 'error', 'timeout');
    const closeSse = m.connectionOpened('sse');
    m.connectionOpened('long_poll');
    m.sinkDelivered({ type: 'rabbitMq', outcome: 'success', events: 3, seconds: 0.02 });
    m.sinkDelivered({ type: 'rabbitMq', outcome: 'failure', events: 2, seconds: 0.5 });
    let text = await scrape();
    assert.equal(sample(text, 'switchboard_sink_deliveries_total', { type: 'rabbitmq', outcome: 'success' }), 1);
    assert.equal(sample(text, 'switchboard_sink_deliveries_total', { type: 'rabbitmq', outcome: 'failure' }), 1);
    assert.equal(sample(text, 'switchboard_sink_events_delivered_total', { type: 'rabbitmq' }), 3, 'only events a destination took');
    assert.equal(sample(text, 'switchboard_sink_delivery_seconds_count', { type: 'rabbitmq' }), 2);
    assert.equal(sample(text, 'switchboard_ingest_requests_total', { provider: 'stripe', outcome: 'accepted', reason: 'none' }), 1);
    assert.equal(sample(text, 'switchboard_ingest_requests_total', { provider: 'stripe', outcome: 'duplicate' }), 1);
    assert.equal(sample(text, 'switchboard_ingest_requests_total', { provider: 'github', outcome: 'rejected', reason: 'signature' }), 1);
    assert.equal(sample(text, 'switchboard_source_runs_total', { kind: 'poll', outcome: 'changed' }), 1);
    assert.equal(sample(text, 'switchboard_source_errors_total', { kind: 'poll', reason: 'timeout' }), 1);
    assert.equal(sample(text, 'switchboard_open_connections', { kind: 'sse' }), 1);
    assert.equal(sample(text, 'switchboard_open_connections', { kind: 'long_poll' }), 1);
    closeSse();
    closeSse();
    text = await scrape();
    assert.equal(sample(text, 'switchboard_open_connections', { kind: 'sse' }), 0);
  });

  it('never labels a sample with an id', async () => {
    const text = await scrape();
    const labelled = text.split('\n').filter((l) => !l.startsWith('#') && l.includes('{'));
    assert.ok(labelled.length > 20);
    for (const line of labelled) assert.doesNotMatch(line, /"(app|ep|msg|atmpt)_[0-9A-Za-z]{27}"/, line);
  });
});

describe('label guard', () => {
  it('keeps label values tame and caps how many there are', () => {
    const g = new LabelGuard();
    assert.equal(g.value('Stripe Webhooks!'), 'stripe_webhooks_');
    assert.equal(g.value(''), 'none');
    for (let i = 0; i < MAX_LABEL_VALUES * 2; i++) g.value(`v${i}`);
    assert.equal(g.value('brand-new'), 'other');
    assert.equal(g.value('v1'), 'v1');
  });
});

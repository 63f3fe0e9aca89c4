import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Api } from '../lib/api.js';
import { closedLoop, openLoop, type LoadRequest } from '../loadgen.js';
import { deliveryColumns, deliveryPhase } from '../lib/phases.js';
import { messageBody, table, type Scenario } from '../lib/scenario.js';
import type { Row } from '../lib/report.js';
import type { RouteConfig } from '../lib/protocol.js';

const STRIPE_SECRET = 'whsec_bench_stripe_signing_secret';
const SW_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const MAX_CLIENTS = 32;

interface SourceKind {
  /** Ingest source type. */
  type: 'stripe' | 'standard-webhooks';
  config: Record<string, unknown>;
  /** A correctly signed request for message `seq` tagged `tag`, signed with the provider's own library. */
  request(path: string, tag: string, seq: number): LoadRequest;
}

/** The benchmark payload (sentAt, phase, an invoice) as published elsewhere in the suite. */
function basePayload(tag: string, seq: number): { phase: string; seq: number; sentAt: number; data: unknown } {
  return (JSON.parse(messageBody('invoice.paid', tag, seq)) as { payload: { phase: string; seq: number; sentAt: number; data: unknown } }).payload;
}

const stripeKind: SourceKind = {
  type: 'stripe',
  config: { secret: STRIPE_SECRET },
  request(path, tag, seq) {
    const p = basePayload(tag, seq);
    // A Stripe event (id, type, data.object), with the benchmark's fields beside them.
    const body = JSON.stringify({
      id: `evt_${tag}_${seq}`,
      object: 'event',
      api_version: '2024-06-20',
      created: Math.floor(p.sentAt / 1000),
      type: 'invoice.paid',
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: p.data },
      phase: p.phase,
      seq: p.seq,
      sentAt: p.sentAt,
    });
    return { path, body, headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET }) } };
  },
};

const swSigner = new StandardWebhook(SW_SECRET);
const standardKind: SourceKind = {
  type: 'standard-webhooks',
  config: { secret: SW_SECRET },
  request(path, tag, seq) {
    const p = basePayload(tag, seq);
    const body = JSON.stringify({ type: 'invoice.paid', timestamp: new Date(p.sentAt).toISOString(), data: p.data, phase: p.phase, seq: p.seq, sentAt: p.sentAt });
    const id = `wh_${tag}_${seq}`;
    const at = new Date(p.sentAt);
    return {
      path,
      body,
      headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(p.sentAt / 1000)), 'webhook-signature': swSigner.sign(id, at, body) },
    };
  },
};

/** Load phases, in order: fixed rates (open loop) and the maximum (closed loop). */
const PHASES: { kind: SourceKind; rate: number | null }[] = [
  { kind: stripeKind, rate: 250 },
  { kind: stripeKind, rate: 1000 },
  { kind: stripeKind, rate: null },
  { kind: standardKind, rate: 1000 },
  { kind: standardKind, rate: null },
];

const HEADERS: Record<string, string> = {
  published: 'accepted/s',
  publishP50: 'ack p50',
  publishP99: 'ack p99',
  p50: 'forward p50',
  p90: 'forward p90',
  p99: 'forward p99',
  max: 'forward max',
  deliveries: 'forwarded/s',
};

export const ingest: Scenario = {
  name: 'ingest',
  title: 'Ingest: verified provider webhook acknowledgement latency and rate, and forwarding',
  async run(ctx) {
    const warmupMs = ctx.d(2000);
    const durationMs = ctx.d(6000);
    const maxWarmupMs = ctx.d(2000);
    const maxDurationMs = ctx.d(8000);
    const receiver = await ctx.receiver();
    await receiver.listen();
    // The per-source limit on unauthenticated ingest requests (1000/s by default) would answer 429 at the maximum rate.
    const server = await ctx.server({ durability: 'full', env: { SWITCHBOARD_RATE_LIMIT_INGEST: 'off' } });
    const api = new Api(server.baseUrl);
    const mon = ctx.monitor(server, receiver);
    const rows: Row[] = [];
    const detail: unknown[] = [];
    const fixedP99: number[] = [];
    const headline: Record<string, number | null> = {};
    try {
      const sources = new Map<string, { ingestPath: string; group: string }>();
      const routes: Record<string, RouteConfig> = {};
      for (const kind of [stripeKind, standardKind]) {
        const src = await api.call<{ id: string; ingestUrl: string }>('POST', '/ingest/api/v1/source', { name: `bench ${kind.type}`, type: kind.type, config: kind.config });
        const path = `/ingest/${kind.type}`;
        const ep = await api.call<{ id: string }>('POST', `/ingest/api/v1/source/${src.id}/endpoint`, { url: `http://127.0.0.1:${receiver.port}${path}` });
        const secret = await api.call<{ key: string }>('GET', `/ingest/api/v1/source/${src.id}/endpoint/${ep.id}/secret`);
        const group = `ingest-${kind.type}`;
        routes[path] = { mode: { kind: 'ok' }, secret: secret.key, group };
        sources.set(kind.type, { ingestPath: new URL(src.ingestUrl).pathname, group });
      }
      await receiver.configure(routes);

      for (const { kind, rate } of PHASES) {
        const s = sources.get(kind.type);
        if (!s) throw new Error(`no ${kind.type} source`);
        const phase = `ingest-${kind.type}-${rate ?? 'max'}`;
        const label = `${kind.type}, ${rate === null ? `max (${MAX_CLIENTS} clients)` : `${rate}/s`}`;
        // Provider requests carry no admin token: the ingest URL's token is the credential.
        const headers = { 'content-type': 'application/json' };
        const res = await deliveryPhase({
          label,
          phase,
          group: s.group,
          receiver,
          monitor: mon,
          mode: rate === null ? 'max' : 'fixed',
          drainTimeoutMs: ctx.d(rate === null ? 45_000 : 30_000),
          load: () =>
            rate === null
              ? closedLoop({
                  baseUrl: server.baseUrl,
                  headers,
                  warmupMs: maxWarmupMs,
                  durationMs: maxDurationMs,
                  concurrency: MAX_CLIENTS,
                  next: (seq) => kind.request(s.ingestPath, phase, seq),
                })
              : openLoop({
                  baseUrl: server.baseUrl,
                  headers,
                  warmupMs,
                  durationMs,
                  ratePerSec: rate,
                  maxInFlight: 256,
                  next: (seq, measured) => kind.request(s.ingestPath, measured ? phase : `${phase}-warmup`, seq),
                }),
        });
        rows.push(res.row);
        const ack = res.load.latency;
        if (rate !== null && ack.count > 0) fixedP99.push(ack.p99);
        const key = kind.type === 'stripe' ? 'stripe' : 'standardWebhooks';
        if (rate === 1000) headline[`${key}AckP99At1000Ms`] = ack.count > 0 ? ack.p99 : null;
        if (rate === null) {
          headline[`${key}MaxAcceptedPerSec`] = res.load.acceptedPerSec;
          headline[`${key}MaxForwardedPerSec`] = res.deliveriesPerSec;
        }
        detail.push({ phase, source: kind.type, rate, load: res.load, window: res.window, receiver: res.receiver, drained: res.drained, drainMs: res.drainMs, drainPerSec: res.drainPerSec });
        ctx.log(`${label}: accepted ${res.load.acceptedPerSec}/s, ack p50 ${ack.p50} p99 ${ack.p99} ms; forwarded ${res.deliveriesPerSec}/s, forward p99 ${res.latency?.p99 ?? '—'} ms`);
      }
      headline['p99Ms'] = fixedP99.length ? Math.max(...fixedP99) : null;

      return {
        method: [
          'One server (durability full; `SWITCHBOARD_RATE_LIMIT_INGEST=off`, since the per-source limit of 1000 requests/s would otherwise answer 429 at the maximum rate). Two ingest sources: `stripe` and `standard-webhooks`, each with one endpoint on the local receiver, which verifies the forwarded requests with the endpoint\'s secret (`standardwebhooks`).',
          'Every request is a unique event (its own Stripe event id / `webhook-id`, so none is a duplicate) of about 600 bytes, signed just before it is sent with the provider\'s own library: `stripe.webhooks.generateTestHeaderString` (Stripe-Signature) and `standardwebhooks` `Webhook.sign`. Requests go to the source\'s ingest URL `POST /ingest/in/{token}` without any other credential.',
          `Fixed rates: open loop (request k starts at t0 + k/rate whatever the answers, at most 256 in flight), ${warmupMs} ms warm-up (events tagged apart) then ${durationMs} ms measured. Maximum: ${MAX_CLIENTS} closed-loop senders, ${maxWarmupMs} ms + ${maxDurationMs} ms.`,
          'Acknowledgement latency ("ack") = from just before the request is sent to the end of the provider\'s 200 answer, which comes after the event is verified and committed (fsynced). "accepted/s" = 200 answers completed in the measured window / window. Forward latency = receiver arrival minus the sender\'s wall clock in the event (`sentAt`), first arrival per message; "forwarded/s" = first arrivals during the measured window.',
          'The target figure (ack p99) is the highest p99 of the fixed-rate phases.',
        ],
        config: { rates: PHASES.map((p) => `${p.kind.type}@${p.rate ?? 'max'}`), warmupMs, durationMs, maxClients: MAX_CLIENTS, maxWarmupMs, maxDurationMs },
        tables: [
          table(
            'Ingest: acknowledgement and forwarding (latency in ms)',
            deliveryColumns('source, load').map(([k, h]): [string, string] => [k, HEADERS[k] ?? h]),
            rows,
          ),
        ],
        notes: [],
        headline,
        detail,
      };
    } finally {
      mon.stop();
      ctx.notePeak(mon);
      await api.close();
    }
  },
};

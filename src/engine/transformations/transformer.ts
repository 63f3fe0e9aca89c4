/**
 * Endpoint transformations: JavaScript `handler(webhook)` functions that may change a
 * delivery's payload, method, URL, event type and headers, or cancel it. Saved code is
 * checked (it must compile and define `handler`); at send time the dispatcher asks this
 * service to run it in the sandbox and gets back a request to send, a cancel, or an error
 * that fails the attempt with its reason.
 */
import type { Clock } from '../../domain/clock.js';
import { AppError } from '../../domain/errors.js';
import type { Endpoint, Message } from '../../domain/model.js';
import { checkHeaders } from '../../domain/headers.js';
import { SandboxPool } from './pool.js';
import type { RunResult, SandboxLimits } from './sandbox.js';

export type TransformMethod = 'POST' | 'PUT' | 'PATCH';

/** What a transformation decided for one delivery. */
export type TransformOutcome =
  | { kind: 'send'; method: TransformMethod; url: string; eventType: string; body: string; headers: Record<string, string> | null }
  | { kind: 'cancel' }
  | { kind: 'error'; reason: string };

/** The port the dispatcher uses (the dispatcher never sees the sandbox). */
export interface Transformer {
  transform(endpoint: Endpoint, message: Message & { payload: string }): Promise<TransformOutcome>;
}

export interface TransformOptions extends SandboxLimits {
  /** Largest transformed body, in bytes. */
  maxPayloadBytes: number;
}

/** True when the endpoint has enabled code to run: the dispatcher's one check on the hot path. */
export function hasTransformation(ep: Endpoint): boolean {
  return ep.transformation?.enabled === true && !!ep.transformation.code;
}

const METHODS = new Set<TransformMethod>(['POST', 'PUT', 'PATCH']);
const EVENT_TYPE = /^[a-zA-Z0-9\-_.]{1,256}$/;
/** Runs in a row that hit the time or memory limit before an endpoint's code is suspended. */
const STRIKES = 3;
const SUSPEND_MS = 60_000;

interface Meta {
  invalid?: string;
  cancel?: unknown;
  method?: unknown;
  url?: unknown;
  eventType?: unknown;
  headers?: unknown;
  hasPayload?: boolean;
}

export interface SimulateInput {
  code: string;
  eventType: string;
  payload: unknown;
  variables?: Record<string, string> | null | undefined;
}

export class TransformService implements Transformer {
  readonly pool: SandboxPool;
  /** Endpoints whose runs keep exceeding the limits: strikes in a row, suspended until. */
  private readonly strikes = new Map<string, { n: number; until: number }>();

  constructor(
    private readonly opts: TransformOptions,
    private readonly clock: Clock,
  ) {
    this.pool = new SandboxPool(opts);
  }

  /** Runs the endpoint's transformation on a message about to be sent. */
  async transform(ep: Endpoint, message: Message & { payload: string }): Promise<TransformOutcome> {
    const t = ep.transformation!;
    const now = this.clock.now();
    const s = this.strikes.get(ep.id);
    if (s && s.until > now) {
      return { kind: 'error', reason: `transformation suspended until ${new Date(s.until).toISOString()}: ${STRIKES} runs in a row exceeded its limits` };
    }
    const input = webhookJson(ep.url, message.eventType, message.payload);
    const r = (await this.pool.request({ op: 'run', key: ep.id, code: t.code!, vars: JSON.stringify(t.variables ?? {}), input })) as RunResult;
    if (r.kind === 'error') {
      if (r.fatal) {
        const n = (s?.n ?? 0) + 1;
        this.strikes.set(ep.id, { n: n >= STRIKES ? 0 : n, until: n >= STRIKES ? now + SUSPEND_MS : 0 });
        if (this.strikes.size > 10_000) this.strikes.delete(this.strikes.keys().next().value!);
      } else this.strikes.delete(ep.id);
      return { kind: 'error', reason: r.reason };
    }
    this.strikes.delete(ep.id);
    return this.outcome(r.meta, r.payload, ep.url, message.eventType);
  }

  /** Checks the webhook object a handler returned and turns it into a request. */
  private outcome(metaText: string, payload: string, url: string, eventType: string): TransformOutcome {
    const bad = (why: string): TransformOutcome => ({ kind: 'error', reason: `transformation returned an invalid webhook: ${why}` });
    const m = JSON.parse(metaText) as Meta;
    if (m.invalid !== undefined) return bad(`handler must return the webhook object, not ${m.invalid}`);
    if (m.cancel !== undefined && m.cancel !== null && typeof m.cancel !== 'boolean') return bad('cancel must be true or false');
    if (m.cancel === true) return { kind: 'cancel' };
    let method: TransformMethod = 'POST';
    if (m.method !== undefined) {
      const up = typeof m.method === 'string' ? (m.method.toUpperCase() as TransformMethod) : null;
      if (!up || !METHODS.has(up)) return bad('method must be "POST", "PUT" or "PATCH"');
      method = up;
    }
    if (m.url !== undefined) {
      const why = checkUrl(m.url);
      if (why) return bad(why);
      url = m.url as string;
    }
    if (m.eventType !== undefined) {
      if (typeof m.eventType !== 'string' || !EVENT_TYPE.test(m.eventType)) return bad('eventType must be a string of letters, digits, "-", "_" and "."');
      eventType = m.eventType;
    }
    let headers: Record<string, string> | null = null;
    if (m.headers !== undefined && m.headers !== null) {
      if (typeof m.headers !== 'object' || Array.isArray(m.headers)) return bad('headers must be an object of strings');
      const entries = Object.entries(m.headers);
      if (entries.length > 100) return bad('at most 100 headers');
      try {
        headers = checkHeaders(entries as [string, string][], ['headers']);
      } catch (e: unknown) {
        return bad((e as Error).message);
      }
    }
    if (!m.hasPayload) return bad('payload is missing');
    if (Buffer.byteLength(payload) > this.opts.maxPayloadBytes) return bad(`payload is larger than ${this.opts.maxPayloadBytes} bytes`);
    return { kind: 'send', method, url, eventType, body: payload, headers };
  }

  /** Refuses code that does not compile or defines no `handler` (422 at `loc`). */
  async checkCode(code: string, loc: (string | number)[] = ['body', 'code']): Promise<void> {
    const why = (await this.pool.request({ op: 'check', code })) as string | null;
    if (why) throw new AppError('validation', why, [{ loc, msg: why, type: 'value_error.transformation' }]);
  }

  /** Runs code on an example, in a runtime used once (nothing is cached or saved). */
  async simulate(ep: Endpoint, input: SimulateInput): Promise<{ url: string; method: TransformMethod; payload: string; cancel: boolean; eventType: string; headers: Record<string, string> | null }> {
    const vars = input.variables ?? ep.transformation?.variables ?? {};
    const job = { op: 'runOnce', code: input.code, vars: JSON.stringify(vars), input: webhookJson(ep.url, input.eventType, JSON.stringify(input.payload)) } as const;
    const r = (await this.pool.request(job)) as RunResult;
    const o = r.kind === 'error' ? ({ kind: 'error', reason: r.reason } as const) : this.outcome(r.meta, r.payload, ep.url, input.eventType);
    if (o.kind === 'error') throw new AppError('transformation_failed', o.reason);
    if (o.kind === 'cancel') return { url: ep.url, method: 'POST', payload: '', cancel: true, eventType: input.eventType, headers: null };
    return { url: o.url, method: o.method, payload: o.body, cancel: false, eventType: o.eventType, headers: o.headers };
  }

  /** Forgets an endpoint's compiled code and strikes (its transformation changed). */
  forget(endpointId: string): void {
    this.strikes.delete(endpointId);
    void this.pool.request({ op: 'evict', key: endpointId });
  }

  /** Stops the sandbox's worker thread. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The object handed to `handler`, as JSON text; the payload text is spliced in unparsed. */
function webhookJson(url: string, eventType: string, payload: string): string {
  return `{"method":"POST","url":${JSON.stringify(url)},"eventType":${JSON.stringify(eventType)},"cancel":false,"payload":${payload}}`;
}

/** Why a URL returned by a handler cannot be used, or null. Its address is checked when connecting. */
function checkUrl(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > 65536) return 'url must be a string';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'url is not a valid absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'url must use http or https';
  if (u.username || u.password) return 'url must not carry credentials';
  return null;
}

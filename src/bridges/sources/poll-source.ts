/**
 * Polling sources: call a third-party HTTP API on an interval with conditional requests,
 * extract items with JSONata, and publish one message per new or changed item.
 *
 * Each run's event ids are derived from the scheduled time of the run, the item key and
 * the item's content hash. A run that fails keeps its scheduled time, so whatever it had
 * already published is recognised as a duplicate when it is retried: a changing API
 * becomes a stream of events without duplicates.
 */
import { createHash } from 'node:crypto';
import type jsonata from 'jsonata';
import { compileJsonata } from '../../domain/sources/jsonata.js';
import { parseRetryAfter } from '../../domain/retry-policy.js';
import type { IngestSource } from '../../domain/providers/source.js';
import type { IngestStore, RunResult, RunState } from '../../storage/contract/ingest.js';
import type { PollClient } from './poll-source-http.js';
import { POLL_MAX_ITEMS, canonicalJson } from '../../domain/sources/poll-config.js';
import type { PollConfig } from '../../domain/sources/poll-config.js';

/** Longest wait after errors, unless the interval itself is longer. */
const MAX_BACKOFF_MS = 3_600_000;
/** Items not seen for this long (and at least ten intervals) are forgotten. */
const FORGET_AFTER_MS = 30 * 86_400_000;
/** Limits on a JSONata evaluation: a runaway expression fails the run, nothing else. */
const JSONATA_LIMITS = { timeout: 2000, stack: 1000, sequence: 1_000_000 };

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Publishes one message of the source; a duplicate event id is not an error. */
export type Emit = (source: IngestSource, msg: { eventType: string; eventId: string; payload: string }) => Promise<void>;

export class PollRunner {
  private readonly compiled = new Map<string, jsonata.Expression>();

  constructor(
    private readonly store: IngestStore,
    private readonly client: PollClient,
    private readonly emit: Emit,
  ) {}

  private expression(text: string): jsonata.Expression {
    let e = this.compiled.get(text);
    if (!e) {
      e = compileJsonata(text, JSONATA_LIMITS);
      if (this.compiled.size > 1000) this.compiled.clear();
      this.compiled.set(text, e);
    }
    return e;
  }

  /** One poll of the source; never throws: failures are outcomes with a backoff. */
  async run(source: IngestSource, c: PollConfig, state: RunState, now: number): Promise<RunResult> {
    const intervalMs = c.intervalSecs * 1000;
    const failed = (reason: string, retryAfterMs?: number): RunResult => {
      const failures = state.failures + 1;
      const backoff = Math.min(intervalMs * 2 ** Math.min(failures, 30), Math.max(intervalMs, MAX_BACKOFF_MS));
      const delay = retryAfterMs !== undefined ? Math.min(Math.max(retryAfterMs, 1000), 86_400_000) : backoff;
      // The scheduled time is kept: a retry re-derives the same event ids for what was already published.
      return { nextRunAt: now + delay, tickAt: state.tickAt, lastRunAt: now, lastOutcome: 'error', lastError: reason.slice(0, 1000), failures };
    };

    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'Switchboard-Poller', ...c.headers };
    if (state.etag) headers['if-none-match'] = state.etag;
    if (state.lastModified) headers['if-modified-since'] = state.lastModified;
    if (c.body !== null && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await this.client.fetch({ url: c.url, method: c.method, headers, body: c.body });
    if (res.kind === 'error') return failed(res.reason);

    const pollHeader = Number(res.headers['x-poll-interval']);
    const nextMs = Math.max(intervalMs, Number.isFinite(pollHeader) && pollHeader > 0 ? Math.min(pollHeader, 86_400) * 1000 : 0);
    const ok = (outcome: RunResult['lastOutcome'], extra: Partial<RunResult> = {}): RunResult => ({
      nextRunAt: now + nextMs,
      tickAt: now + nextMs,
      lastRunAt: now,
      lastOutcome: outcome,
      lastError: null,
      failures: 0,
      ...extra,
    });

    if (res.status === 304) return ok('not-modified');
    if (res.status < 200 || res.status >= 300) {
      return failed(`HTTP ${res.status} from ${new URL(c.url).host}`, parseRetryAfter(res.headers['retry-after'], now));
    }
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8')) as unknown;
    } catch {
      return failed('response is not valid JSON');
    }

    let items: unknown[];
    let keys: string[];
    try {
      const extracted: unknown = c.items === null ? body : await this.expression(c.items).evaluate(body);
      items = extracted === undefined ? [] : Array.isArray(extracted) ? [...(extracted as unknown[])] : [extracted];
      if (items.length > POLL_MAX_ITEMS) return failed(`config.items gave ${items.length} items; at most ${POLL_MAX_ITEMS} are taken per run`);
      keys = [];
      for (const item of items) {
        const id: unknown = c.itemId === null ? undefined : await this.expression(c.itemId).evaluate(item);
        keys.push(id === undefined || id === null ? 'h:' + sha256(canonicalJson(item)) : typeof id === 'string' ? id : canonicalJson(id));
      }
    } catch (e: unknown) {
      return failed(`JSONata: ${(e as Error).message}`);
    }

    // One entry per key; the first occurrence wins.
    const seen = new Map<string, { item: unknown; hash: string }>();
    items.forEach((item, i) => {
      const k = keys[i]!;
      if (!seen.has(k)) seen.set(k, { item, hash: sha256(canonicalJson(item)) });
    });
    const remembered = await this.store.pollItems(source.id, [...seen.keys()]);
    const validators = { etag: res.headers.etag ?? null, lastModified: res.headers['last-modified'] ?? null };
    const memory = [...seen].map(([key, v]) => ({ key, hash: v.hash }));
    const forgetBefore = now - Math.max(FORGET_AFTER_MS, 10 * intervalMs);
    if (!state.primed && !c.emitInitial) return ok('primed', { ...validators, primed: true, items: memory, forgetBefore });

    const emitted: Promise<void>[] = [];
    for (const [key, { item, hash }] of seen) {
      const before = remembered.get(key);
      const isNew = before === undefined;
      const isChanged = before !== undefined && before !== hash;
      const wanted = c.emitOn === 'both' ? isNew || isChanged : c.emitOn === 'new' ? isNew : isChanged;
      if (!wanted) continue;
      const payload = item !== null && typeof item === 'object' && !Array.isArray(item) ? JSON.stringify(item) : JSON.stringify({ value: item });
      const eventId = `poll.${state.tickAt}.${sha256(key + '\0' + hash).slice(0, 32)}`;
      emitted.push(this.emit(source, { eventType: c.eventType, eventId, payload }));
    }
    const results = await Promise.allSettled(emitted);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) return failed(`could not publish: ${(failure.reason as Error).message}`);
    return ok(emitted.length > 0 ? 'emitted' : 'unchanged', { ...validators, primed: true, items: memory, forgetBefore });
  }
}

/**
 * Receiving webhooks: find the source by its URL token, verify the request exactly as the
 * provider signs it, drop duplicates by the provider's event id, and store it as a message
 * of the source's application. The provider is answered as soon as that message is
 * committed; delivery to the source's endpoints happens afterwards, at their own pace.
 * Rejected requests are answered 401, logged with the reason, and never forwarded.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { AppError, toError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { Application } from '../../domain/model.js';
import { messagePayload, parseBody } from '../../domain/providers/body.js';
import { toEventType } from '../../domain/providers/mapping.js';
import type { InboundRequest } from '../../domain/providers/types.js';
import type { IngestSource } from '../../domain/providers/source.js';
import type { IngestLog, IngestStore } from '../../storage/contract/ingest.js';
import { STORAGE_FAULT_ANSWERS, reportStorageFault, storageFaultDetail } from '../../storage/contract/storage-faults.js';
import { GroupCommit } from '../../engine/group-commit.js';
import type { IngestSourceService } from './ingest-sources.js';
import type { MessageService } from '../push/messages.js';

/** Log entries kept per source. */
export const LOGS_KEPT_PER_SOURCE = 1000;
/** Bytes of a rejected body kept in the log. */
const LOGGED_BODY_BYTES = 64 * 1024;
const REDACTED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

export interface ReceivedRequest {
  token: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** The full URL as the provider called it (public base URL, path, query). */
  url: string;
}

export interface IngestReply {
  status: number;
  contentType: string;
  body: string;
}

const json = (status: number, body: unknown): IngestReply => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** An event id usable as a message `eventId` (uid grammar, bounded length); others are hashed. */
export function dedupeKey(raw: string): string {
  return /^[a-zA-Z0-9\-_.]{1,200}$/.test(raw) ? raw : 'sha256.' + createHash('sha256').update(raw).digest('hex').slice(0, 48);
}

export interface IngestOptions {
  /** How long a provider's event id is remembered (duplicates within it are dropped). */
  dedupeWindowMs: number;
}

export class IngestService {
  private readonly logWrites: GroupCommit<IngestLog, undefined>;

  constructor(
    private readonly store: IngestStore,
    private readonly clock: Clock,
    private readonly sources: IngestSourceService,
    private readonly messages: MessageService,
    private readonly opts: IngestOptions,
  ) {
    this.logWrites = new GroupCommit(async (items) => {
      await this.store.addLogs(items, LOGS_KEPT_PER_SOURCE);
      return items.map(() => undefined);
    });
  }

  /** Handles one request to an ingest URL; never throws. */
  async receive(input: ReceivedRequest): Promise<IngestReply> {
    const now = this.clock.now();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(input.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    let resolved;
    try {
      resolved = await this.sources.resolveToken(input.token);
    } catch {
      return json(503, { code: 'unavailable', detail: 'the source could not be looked up; retry later' });
    }
    if (!resolved || resolved.kind !== 'webhook') return json(404, { code: 'not_found', detail: 'no ingest source has this URL' });
    const { source, spec, config } = resolved;

    const req: InboundRequest = { body: input.body, headers, url: input.url, nowMs: now };
    const body = parseBody(input.body, headers['content-type']);
    const verdict = spec.verify(req, body, config);
    if (!verdict.ok) {
      await this.log(source, 401, verdict.reason, headers, input.body, now);
      return json(401, { code: 'unauthorized', detail: verdict.reason });
    }
    const challenge = spec.challenge?.(req, body, config);
    if (challenge) return { status: 200, contentType: challenge.contentType, body: challenge.body };

    const eventType = toEventType(spec.eventType(req, body, config), 'webhook');
    const rawId = spec.eventId(req, body, config);
    const payload = messagePayload(input.body, body);
    try {
      const app = await this.sources.appFor(source);
      // The received headers reach endpoints' content filters; they are not stored.
      const r = await this.publishOnce(app, { eventType, payload, headers }, rawId === null ? null : dedupeKey(rawId), now);
      return json(200, r.duplicate ? { duplicate: true, id: r.id } : { id: r.id });
    } catch (e: unknown) {
      const reason = e instanceof AppError ? e.message : `could not store the request: ${toError(e).message}`;
      // Disk full, read-only, I/O errors: 507/503 with a code that says why (the storage health hears of it).
      const fault = reportStorageFault(this.store, e);
      const answer = fault ? STORAGE_FAULT_ANSWERS[fault.kind] : null;
      await this.log(source, answer?.status ?? 503, reason, headers, input.body, now);
      if (fault && answer) return json(answer.status, { code: answer.code, detail: storageFaultDetail(fault) });
      return json(503, { code: 'unavailable', detail: 'the request could not be stored; retry later' });
    }
  }

  /**
   * Publishes unless the key was seen within the dedupe window. The first message of a key
   * carries it as `eventId` (the message unique index makes concurrent copies lose
   * atomically), so a copy within the window costs one round trip: the refused publish names
   * the message it collided with and when that was created. After the window a key may come
   * again: it is then stored as `<key>.g<n>`, n counting windows since the epoch, and the
   * current and previous generation are checked, so no copy within the window passes.
   */
  private async publishOnce(app: Application, msg: { eventType: string; payload: string; headers?: Record<string, string> }, key: string | null, now: number): Promise<{ id: string; duplicate: boolean }> {
    if (key === null) return { id: (await this.messages.publish(app, msg)).message.id, duplicate: false };
    const window = this.opts.dedupeWindowMs;
    const recent = (createdAt: number | null): boolean => createdAt !== null && createdAt > now - window;
    const first = await this.messages.publish(app, { ...msg, eventId: key });
    if (first.kind === 'published') return { id: first.message.id, duplicate: false };
    if (recent(first.existingCreatedAt)) return { id: first.existingId, duplicate: true };
    const gen = Math.floor(now / window);
    const previous = await this.messages.find(app.id, `${key}.g${gen - 1}`);
    if (previous && recent(previous.createdAt)) return { id: previous.id, duplicate: true };
    const again = await this.messages.publish(app, { ...msg, eventId: `${key}.g${gen}` });
    return again.kind === 'published' ? { id: again.message.id, duplicate: false } : { id: again.existingId, duplicate: true };
  }

  private async log(source: IngestSource, statusCode: number, reason: string, headers: Record<string, string>, body: Buffer, now: number): Promise<void> {
    const shown: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) shown[k] = REDACTED_HEADERS.has(k) ? '[redacted]' : v;
    const cut = body.subarray(0, LOGGED_BODY_BYTES);
    const text = cut.toString('utf8');
    const payload = Buffer.from(text, 'utf8').equals(cut) ? text : 'base64:' + cut.toString('base64');
    try {
      await this.logWrites.submit({ id: newId('ingestLog', now), sourceId: source.id, statusCode, errorText: reason, headers: shown, payload, createdAt: now });
    } catch {
      // The log is best effort: the provider still gets its answer.
    }
  }
}

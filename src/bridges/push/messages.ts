/** Publishing messages and the manual triggers around them. */
import type { Clock } from '../../domain/clock.js';
import { notFound } from '../../domain/errors.js';
import { applyFilters, filterSubject } from '../../domain/filter.js';
import { idTime, newId } from '../../domain/ids.js';
import { orderingKeyOf, orderingOf } from '../../domain/ordering.js';
import type { Application, Endpoint, Message } from '../../domain/model.js';
import { insertionOf } from '../../engine/admission.js';
import type { Admission, AdmissionControl } from '../../engine/admission.js';
import type { IdempotentResponse, MessageQuery, NewDelivery, Page, PublishItem, PublishResult, Store } from '../../storage/contract/store.js';
import type { EndpointService } from '../../catalog/endpoints.js';
import type { EventBus } from '../../engine/event-bus.js';
import { GroupCommit } from '../../engine/group-commit.js';

export interface PublishInput {
  eventType: string;
  eventId?: string | null | undefined;
  channels?: string[] | null | undefined;
  tags?: string[] | null | undefined;
  /** The payload as JSON text. */
  payload: string;
  /** The explicit ordering key (docs/ordering.md); ordered endpoints may also derive one. */
  orderingKey?: string | null | undefined;
  /** Only to this endpoint (send-example), instead of every matching one; its content filter is not applied. */
  onlyEndpoint?: Endpoint | undefined;
  /**
   * Headers the message arrived with (ingest), seen by endpoints' content filters as
   * `headers.<name>`. Not stored: only the publish that carries them can filter on them.
   */
  headers?: Record<string, string> | undefined;
  /**
   * The request's idempotency key: the response `respond` makes of the message is stored under
   * it in the publish's own transaction, until `expiresAt`.
   */
  idempotent?: { key: string; expiresAt: number; respond: (message: Message) => IdempotentResponse } | undefined;
}

/** How a publish ended: a message with an eventId already used in the application is a duplicate. */
export type PublishOutcome =
  | { kind: 'published'; message: Message }
  /** Nothing was stored; `existingCreatedAt` is null if the id does not carry a time (never for ids this service made). */
  | { kind: 'duplicate'; existingId: string; existingCreatedAt: number | null };

export class MessageService {
  private readonly commits: GroupCommit<PublishItem, PublishResult>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly endpoints: EndpointService,
    private readonly admission: AdmissionControl,
    private readonly bus: EventBus,
    /** Least time between two publish commits, in ms (SWITCHBOARD_PUBLISH_COMMIT_INTERVAL_MS). */
    commitIntervalMs = 0,
  ) {
    // One bus event per commit: readers are woken once per batch, not once per message.
    this.commits = new GroupCommit((items) => this.store.publish(items), {
      committed: (items, results) => {
        const messages = items.filter((_, i) => results[i]?.kind === 'created').map((it) => it.message);
        if (messages.length > 0) this.bus.emit({ kind: 'messages.published', messages });
      },
      minIntervalMs: commitIntervalMs,
    });
  }

  /**
   * Publishes a message: it and one delivery per matching endpoint are committed before
   * this resolves. Deliveries with a free slot are sent at once by this node. Without an
   * eventId a message is never a duplicate.
   */
  publish(app: Application, input: PublishInput & { eventId?: null | undefined }): Promise<{ kind: 'published'; message: Message }>;
  publish(app: Application, input: PublishInput): Promise<PublishOutcome>;
  async publish(app: Application, input: PublishInput): Promise<PublishOutcome> {
    const now = this.clock.now();
    const message: Message = {
      id: newId('message', now),
      appId: app.id,
      eventType: input.eventType,
      eventId: input.eventId ?? null,
      channels: input.channels && input.channels.length > 0 ? input.channels : null,
      tags: input.tags && input.tags.length > 0 ? input.tags : null,
      payload: input.payload,
      createdAt: now,
    };
    if (input.orderingKey) message.orderingKey = input.orderingKey;
    const targets = input.onlyEndpoint
      ? [input.onlyEndpoint]
      : applyFilters(await this.endpoints.matching(app.id, message.eventType, message.channels), () =>
          filterSubject(message.payload, message.eventType, message.channels, input.headers),
        );
    const admissions = targets.map((ep) => this.admission.admit(ep, now));
    let result: PublishResult;
    try {
      const deliveries = admissions.map((a) => newDelivery(a, message));
      const k = input.idempotent;
      result = await this.commits.submit(k ? { message, deliveries, idempotent: { key: k.key, expiresAt: k.expiresAt, response: k.respond(message) } } : { message, deliveries });
    } catch (e: unknown) {
      this.admission.settle({ kind: 'rolled-back', admissions });
      throw e;
    }
    if (result.kind === 'duplicate-event-id') {
      this.admission.settle({ kind: 'rolled-back', admissions });
      return { kind: 'duplicate', existingId: result.existingId, existingCreatedAt: idTime('message', result.existingId) };
    }
    this.admission.settle({ kind: 'committed', message, app: { id: app.id, headerStyle: app.headerStyle }, admissions, inserted: result.deliveries });
    return { kind: 'published', message };
  }

  /** By id or eventId; null if the application has no such message. */
  find(appId: string, idOrEventId: string): Promise<Message | null> {
    return this.store.getMessage(appId, idOrEventId);
  }

  async get(appId: string, idOrEventId: string): Promise<Message> {
    const m = await this.find(appId, idOrEventId);
    if (!m) throw notFound('Message');
    return m;
  }

  list(appId: string, q: MessageQuery): Promise<Page<Message>> {
    return this.store.listMessages(appId, q);
  }

  async expungeContent(appId: string, id: string): Promise<void> {
    const m = await this.get(appId, id);
    await this.store.expungeMessageContent(appId, m.id);
  }

  /** Tells the engine the endpoint has new due deliveries (after recover or replay). */
  kick(endpointId: string): void {
    this.admission.backlogged(endpointId);
  }

  /** Sends the message to the endpoint again, once. */
  async resend(appId: string, messageId: string, endpoint: Endpoint): Promise<void> {
    const m = await this.get(appId, messageId);
    const now = this.clock.now();
    const ordering = orderingOf(endpoint.metadata);
    // On an ordered endpoint a delivery the message never had is created with its key first.
    if (ordering) await this.store.ordering.addDeliveries(endpoint.id, appId, ordering, [m.id], now);
    await this.store.resend(m.id, endpoint.id, appId, now);
    if (ordering) await this.store.ordering.assignKeys(endpoint.id, ordering);
    this.admission.backlogged(endpoint.id);
  }
}

/** The delivery to insert for an admission: with its ordering key when the endpoint is ordered. */
function newDelivery(a: Admission, message: Message): NewDelivery {
  const ordering = orderingOf(a.endpoint.metadata);
  if (!ordering) return { endpointId: a.endpoint.id, ...insertionOf(a) };
  return { endpointId: a.endpoint.id, ...insertionOf(a), orderingKey: orderingKeyOf(ordering, message) ?? '' };
}

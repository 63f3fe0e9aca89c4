/** Storage of messages: publishing them with their deliveries (group commit), and reading them back. */
import type { Message } from '../../domain/model.js';
import type { IdempotentEntry } from './idempotency.js';
import type { Page, PageQuery } from './paging.js';

/** Filters of a message listing. */
export interface MessageQuery extends PageQuery {
  before?: number | undefined;
  after?: number | undefined;
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  tag?: string | undefined;
}

/** A delivery to create alongside a message. A lease means this node sends it at once. */
export interface NewDelivery {
  endpointId: string;
  leaseUntil: number | null;
  /**
   * Pending, and the publishing node claims it itself: a store shared by several nodes does
   * not tell the others about it (their sweep still finds it, should this node die first).
   */
  claimedHere?: true | undefined;
  /** Its ordering key when the endpoint is ordered ('' for a message without one); absent otherwise. */
  orderingKey?: string | undefined;
}

/** A message to publish with the deliveries to create for it. */
export interface PublishItem {
  message: Message;
  deliveries: NewDelivery[];
  /**
   * The request's response, stored under its idempotency key in the same transaction when the
   * message is created (not when it is refused as a duplicate eventId). A fresh entry already
   * under the key is kept; an expired one is replaced.
   */
  idempotent?: IdempotentEntry | undefined;
}

/** What publishing one item did: created (with its deliveries) or refused as a duplicate eventId. */
export type PublishResult =
  | { kind: 'created'; deliveries: { endpointId: string; deliveryId: number; leaseToken: number }[] }
  | { kind: 'duplicate-event-id'; existingId: string };

/** Publishing messages and reading them back. */
export interface MessageStore {
  /** Inserts messages and their deliveries in one transaction (group commit). */
  publish(items: PublishItem[]): Promise<PublishResult[]>;
  /** By id or eventId, within the application. */
  getMessage(appId: string, idOrEventId: string): Promise<Message | null>;
  listMessages(appId: string, q: MessageQuery): Promise<Page<Message>>;
  expungeMessageContent(appId: string, id: string): Promise<void>;
}

/** Attempt history: the attempts made, and the deliveries of a message or to an endpoint with their state. */
import type { Attempt, DeliveryStatus, Endpoint, Message } from '../../domain/model.js';
import type { MessageQuery } from './messages.js';
import type { Page, PageQuery } from './paging.js';

/** Filters of an attempt listing. */
export interface AttemptQuery extends PageQuery {
  status?: DeliveryStatus | undefined;
  statusCodeClass?: number | undefined;
  endpointId?: string | undefined;
  channel?: string | undefined;
  eventTypes?: string[] | undefined;
  before?: number | undefined;
  after?: number | undefined;
}

/** Attempts made, and deliveries with their state. */
export interface AttemptHistoryStore {
  listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>>;
  listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>>;
  getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null>;
  expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void>;
  /** Deliveries of a message, one per endpoint, with the endpoint. */
  listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>>;
  /** Messages sent to an endpoint, with the delivery status. */
  listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>>;
}

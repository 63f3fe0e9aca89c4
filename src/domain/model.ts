/** The records Switchboard keeps. Times are milliseconds since the epoch. */

export type Metadata = Record<string, string>;

/** Which header names signed requests carry: `webhook-*`, `svix-*`, or both. */
export type HeaderStyle = 'standard' | 'svix' | 'both';

export interface Application {
  id: string;
  uid: string | null;
  name: string;
  throttleRate: number | null;
  metadata: Metadata;
  headerStyle: HeaderStyle;
  createdAt: number;
  updatedAt: number;
}

export interface EventType {
  name: string;
  description: string;
  archived: boolean;
  deprecated: boolean;
  featureFlag: string | null;
  schemas: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
}

/** A signing secret; `expiresAt` is set on a previous secret still honoured after rotation. */
export interface SecretEntry {
  key: string;
  expiresAt: number | null;
}

export interface Endpoint {
  id: string;
  appId: string;
  uid: string | null;
  url: string;
  description: string;
  disabled: boolean;
  eventTypes: string[] | null;
  channels: string[] | null;
  throttleRate: number | null;
  metadata: Metadata;
  headers: Record<string, string>;
  /** Newest first. */
  secrets: SecretEntry[];
  /** Start of the current run of failed attempts, or null after a success. */
  failingSince: number | null;
  /** Content filter (see domain/filter.ts); absent or null lets every message through. */
  filter?: Record<string, unknown> | null;
  /** Code run on each delivery before it is sent; absent or null when none was ever set. */
  transformation?: EndpointTransformation | null;
  createdAt: number;
  updatedAt: number;
}

/** An endpoint's transformation: JavaScript defining `handler(webhook)`. */
export interface EndpointTransformation {
  code: string | null;
  enabled: boolean;
  /** Values the code reads as `variables` (e.g. a chat channel name). */
  variables: Record<string, string> | null;
  updatedAt: number;
}

export interface Message {
  id: string;
  appId: string;
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  tags: string[] | null;
  /** The payload as JSON text, exactly as sent to receivers; null once expunged. */
  payload: string | null;
  createdAt: number;
  /** The explicit ordering key it was published with (docs/ordering.md); absent when none. */
  orderingKey?: string | undefined;
}

/** Delivery and attempt status, numbered as in the compatible API. */
export const enum DeliveryStatus {
  Success = 0,
  Pending = 1,
  Fail = 2,
  Sending = 3,
}

export const STATUS_TEXT = ['success', 'pending', 'fail', 'sending'] as const;

export const enum TriggerType {
  Scheduled = 0,
  Manual = 1,
}

/** One message's journey to one endpoint. */
export interface Delivery {
  id: number;
  messageId: string;
  endpointId: string;
  appId: string;
  status: DeliveryStatus;
  attempts: number;
  /** When it is due (pending) or when its lease ends (sending); null when finished. */
  nextAttemptAt: number | null;
  trigger: TriggerType;
  createdAt: number;
  updatedAt: number;
}

export interface Attempt {
  id: string;
  messageId: string;
  endpointId: string;
  appId: string;
  url: string;
  status: DeliveryStatus.Success | DeliveryStatus.Fail;
  responseStatusCode: number;
  response: string;
  responseDurationMs: number;
  triggerType: TriggerType;
  createdAt: number;
}

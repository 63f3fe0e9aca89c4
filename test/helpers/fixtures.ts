/** Domain records for store tests: an application, an endpoint, a message, a stream sink, with overrides. */
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Application, Endpoint, Message } from '../../src/domain/model.js';
import type { AttemptRecord, ClaimedDelivery } from '../../src/storage/contract/store.js';
import type { SinkRecord } from '../../src/storage/contract/streams.js';

/** The store tests' clock origin (ms). */
export const T0 = 1_700_000_000_000;

export function app(over: Partial<Application> = {}): Application {
  return { id: newId('application', T0), uid: null, name: 'a', throttleRate: null, metadata: {}, headerStyle: 'standard', createdAt: T0, updatedAt: T0, ...over };
}

export function endpoint(appId: string, over: Partial<Endpoint> = {}): Endpoint {
  return {
    id: newId('endpoint', T0),
    appId,
    uid: null,
    url: 'http://127.0.0.1:1/x',
    description: '',
    disabled: false,
    eventTypes: null,
    channels: null,
    throttleRate: null,
    metadata: {},
    headers: {},
    secrets: [{ key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expiresAt: null }],
    failingSince: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/** An enabled HTTP sink of stream `streamId` at the start of the stream, batches of 100 sent at once. */
export function sinkRecord(streamId: string, over: Partial<SinkRecord> = {}): SinkRecord {
  return {
    id: newId('sink', T0),
    streamId,
    uid: null,
    type: 'http',
    config: JSON.stringify({ url: 'http://127.0.0.1:1/sink' }),
    batchSize: 100,
    maxWaitSecs: 0,
    eventTypes: [],
    metadata: {},
    status: 'enabled',
    failureReason: null,
    nextRetryAt: null,
    failures: 0,
    cursor: 0,
    secret: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=',
    headers: {},
    transformationCode: null,
    transformationEnabled: false,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function message(appId: string, at: number, over: Partial<Message> = {}): Message {
  return { id: newId('message', at), appId, eventType: 'e.t', eventId: null, channels: null, tags: null, payload: '{"a":1}', createdAt: at, ...over };
}

/** The record of an attempt on claimed delivery `c` at `at`, moving it to `next` (a success unless `ok` says otherwise). */
export function attemptRecord(c: ClaimedDelivery, next: AttemptRecord['next'], at: number, ok = next.status === DeliveryStatus.Success): AttemptRecord {
  return {
    attempt: {
      id: newId('attempt', at),
      messageId: c.message.id,
      endpointId: c.endpoint.id,
      appId: c.app.id,
      url: c.endpoint.url,
      status: ok ? DeliveryStatus.Success : DeliveryStatus.Fail,
      responseStatusCode: ok ? 200 : 500,
      response: '',
      responseDurationMs: 1,
      triggerType: c.trigger,
      createdAt: at,
    },
    deliveryId: c.deliveryId,
    leaseToken: c.leaseToken,
    next,
    disableEndpoint: false,
  };
}

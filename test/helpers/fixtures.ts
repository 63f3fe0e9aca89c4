/** Domain records for store tests: an application, an endpoint, a message, with overrides. */
import { newId } from '../../src/domain/ids.js';
import type { Application, Endpoint, Message } from '../../src/domain/model.js';

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

export function message(appId: string, at: number, over: Partial<Message> = {}): Message {
  return { id: newId('message', at), appId, eventType: 'e.t', eventId: null, channels: null, tags: null, payload: '{"a":1}', createdAt: at, ...over };
}

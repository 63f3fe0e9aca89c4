/**
 * The JSON form of a sink event, as HTTP and MQTT sinks send it:
 * `{"id": "evt_...", "eventType": "...", "payload": ..., "timestamp": "2026-01-01T00:00:00.000Z"}`.
 * `payload` is the parsed JSON value when the payload text is JSON, and the text itself
 * (a JSON string) otherwise; `timestamp` is when the event was created, ISO 8601 in UTC.
 */
import type { SinkEvent } from '../sink-transport.js';

export interface EventJson {
  id: string;
  eventType: string;
  payload: unknown;
  timestamp: string;
}

/** The payload as a JSON value: parsed when it is JSON, the text otherwise. */
function payloadValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function eventJson(e: SinkEvent): EventJson {
  return { id: e.id, eventType: e.eventType, payload: payloadValue(e.payload), timestamp: new Date(e.createdAt).toISOString() };
}

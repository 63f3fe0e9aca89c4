/**
 * A sink's transformation, run on each event of a batch before it is delivered, by the same
 * sandboxed service that runs endpoint transformations. The handler gets the webhook object
 * it knows (`eventType` and `payload`; `url` names the sink under the reserved `.invalid`
 * domain, `method` is `POST`, and both are ignored), and may return another payload or event type, or `cancel: true` to leave the
 * event out of the batch. A payload that is not JSON text reaches the handler as a string,
 * and a string it returns is sent as that text.
 */
import type { Endpoint, Message } from '../../domain/model.js';
import type { Transformer } from '../../engine/transformations/transformer.js';
import type { SinkRecord, StreamEvent } from '../../storage/contract/streams.js';
import type { SinkEvent } from './sink-transport.js';

export type SinkTransformResult = { kind: 'ok'; events: SinkEvent[] } | { kind: 'error'; reason: string };

/** True when the sink has enabled code to run. */
export function hasSinkTransformation(sink: SinkRecord): boolean {
  return sink.transformationEnabled && !!sink.transformationCode;
}

/** An event as it leaves Switchboard, untransformed. */
export function sinkEventOf(e: StreamEvent): SinkEvent {
  return { id: e.id, eventType: e.eventType, payload: e.payload, createdAt: e.createdAt, seq: e.seq };
}

/** Runs the sink's transformation on each event, in order; the first failure fails the batch. */
export async function transformBatch(transformer: Transformer, sink: SinkRecord, events: readonly StreamEvent[]): Promise<SinkTransformResult> {
  const view = endpointView(sink);
  const out: SinkEvent[] = [];
  for (const e of events) {
    const json = isJson(e.payload);
    const message: Message & { payload: string } = {
      id: e.id,
      appId: sink.streamId,
      eventType: e.eventType,
      eventId: e.id,
      channels: null,
      tags: null,
      payload: json ? e.payload : JSON.stringify(e.payload),
      createdAt: e.createdAt,
    };
    const t = await transformer.transform(view, message);
    if (t.kind === 'error') return { kind: 'error', reason: `transformation of event ${e.id} failed: ${t.reason}` };
    if (t.kind === 'cancel') continue;
    out.push({ ...sinkEventOf(e), eventType: t.eventType, payload: json ? t.body : unwrapString(t.body) });
  }
  return { kind: 'ok', events: out };
}

/** The sink as the transform service sees an endpoint: its id keys the compiled code. */
function endpointView(sink: SinkRecord): Endpoint {
  return {
    id: sink.id,
    appId: sink.streamId,
    uid: sink.uid,
    url: `https://sink.invalid/${sink.id}`,
    description: '',
    disabled: false,
    eventTypes: null,
    channels: null,
    throttleRate: null,
    metadata: {},
    headers: {},
    secrets: [],
    failingSince: null,
    transformation: { code: sink.transformationCode, enabled: sink.transformationEnabled, variables: null, updatedAt: sink.updatedAt },
    createdAt: sink.createdAt,
    updatedAt: sink.updatedAt,
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A JSON string literal becomes its text; any other JSON stays as it is. */
function unwrapString(json: string): string {
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

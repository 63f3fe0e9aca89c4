/** PostgreSQL rows: the shared mappers, and the endpoint columns for writes. */
import type { Endpoint } from '../../domain/model.js';
import type { SecretBox } from '../../security/crypto.js';
import { json } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';

export { json, toApp, toAttempt, toEndpoint, toEventType, toMessage } from '../shared/rows.js';
export type { Row } from '../shared/rows.js';

/** The endpoint columns, for INSERT and UPDATE. */
export function endpointValues(e: Endpoint, box: SecretBox): Row {
  return {
    id: e.id,
    app_id: e.appId,
    uid: e.uid,
    url: e.url,
    description: e.description,
    disabled: e.disabled,
    event_types: json(e.eventTypes),
    channels: json(e.channels),
    throttle_rate: e.throttleRate,
    metadata: JSON.stringify(e.metadata),
    headers: box.seal(JSON.stringify(e.headers)),
    secrets: box.seal(JSON.stringify(e.secrets)),
    failing_since: e.failingSince,
    filter: json(e.filter),
    transformation: e.transformation ? box.seal(JSON.stringify(e.transformation)) : null,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

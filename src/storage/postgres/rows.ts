/** PostgreSQL rows: the shared mappers, and the endpoint columns for writes. */
import type { Endpoint, HeaderStyle, TriggerType } from '../../domain/model.js';
import type { ClaimedDelivery } from '../contract/queue.js';
import type { SecretBox } from '../../security/crypto.js';
import { json, toMessage } from '../shared/rows.js';
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

/** A leased delivery row (`d_*` columns) joined with its message, as a claimed delivery. */
export function claimedDelivery(r: Row, endpoint: Endpoint, headerStyle: HeaderStyle): ClaimedDelivery {
  const c: ClaimedDelivery = {
    deliveryId: r.d_id as number,
    leaseToken: r.d_lease_token as number,
    attempts: r.d_attempts as number,
    trigger: r.d_trigger as TriggerType,
    message: toMessage(r),
    endpoint,
    app: { id: endpoint.appId, headerStyle },
  };
  if (typeof r.d_ordering_key === 'string') c.orderingKey = r.d_ordering_key;
  return c;
}

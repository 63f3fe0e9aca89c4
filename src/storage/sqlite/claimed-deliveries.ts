/** Leased delivery rows joined with their messages and application, as claimed deliveries. */
import type { Endpoint, HeaderStyle, TriggerType } from '../../domain/model.js';
import type { ClaimedDelivery } from '../contract/queue.js';
import { toMessage } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import type { SqliteConnection } from './connection.js';

/** The claimed deliveries of `endpoint` for leased `rows`, oldest first; a row whose message is gone is left out. */
export function claimedDeliveries(c: SqliteConnection, rows: Row[], endpoint: Endpoint): ClaimedDelivery[] {
  if (rows.length === 0) return [];
  const app = c.q('SELECT header_style FROM applications WHERE id = ?').get(endpoint.appId) as Row | undefined;
  const headerStyle = (app?.header_style as HeaderStyle | undefined) ?? 'standard';
  const getMsg = c.q('SELECT * FROM messages WHERE id = ?');
  const out: ClaimedDelivery[] = [];
  for (const r of [...rows].sort((a, b) => (a.id as number) - (b.id as number))) {
    const m = getMsg.get(r.message_id) as Row | undefined;
    if (!m) continue;
    const d: ClaimedDelivery = {
      deliveryId: r.id as number,
      leaseToken: r.lease_token as number,
      attempts: r.attempts as number,
      trigger: r.trigger as TriggerType,
      message: toMessage(m),
      endpoint,
      app: { id: endpoint.appId, headerStyle },
    };
    if (typeof r.ordering_key === 'string') d.orderingKey = r.ordering_key;
    out.push(d);
  }
  return out;
}

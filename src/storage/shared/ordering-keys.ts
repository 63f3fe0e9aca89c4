/** The ordering key of a stored message for an ordered endpoint, for both databases. */
import { orderingKeyOf } from '../../domain/ordering.js';
import type { OrderingConfig } from '../../domain/ordering.js';
import type { Row } from './rows.js';

/**
 * The key of a message row (`payload`, `tags`, `ordering_key` columns) for an endpoint with
 * these settings: '' when the message has none (such messages form one key of their own).
 */
export function keyOfRow(config: OrderingConfig, r: Row): string {
  const tags = typeof r.tags === 'string' ? (JSON.parse(r.tags) as string[]) : ((r.tags as string[] | null | undefined) ?? null);
  return orderingKeyOf(config, { orderingKey: (r.ordering_key as string | null) ?? null, payload: (r.payload as string | null) ?? null, tags }) ?? '';
}

/**
 * Messages named by their key, (application, id): every table of the delivery path is keyed
 * by the application first (migrations 0037 and 0038), so rows of many messages are found by
 * the pairs, not by the ids alone.
 */
import type { PendingQuery, Sql, TransactionSql } from 'postgres';
import type { Row } from './rows.js';

/** Messages by their key, application and id side by side. */
export interface MessageKeys {
  apps: string[];
  ids: string[];
}

/** The pairs of `keys`, as the right side of `(app_id, message_id) IN ...`. */
export function inKeys(sql: TransactionSql | Sql, keys: MessageKeys): PendingQuery<Row[]> {
  return sql`(SELECT * FROM unnest(${keys.apps}::text[], ${keys.ids}::text[]))`;
}

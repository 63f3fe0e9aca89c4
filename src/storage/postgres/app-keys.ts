/**
 * Rows named by their application: every key of the delivery path is led by the application
 * id (migrations 0037 and 0038), so statements find rows by (application, id) pairs, and a
 * statement that has only an endpoint id reads the endpoint's application itself.
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

/**
 * The application of an endpoint, read in the statement that needs it, for statements that
 * know only the endpoint (a claim, recovery, statistics): an uncorrelated subquery, run once
 * per statement, whose value the keys use.
 */
export function appOfEndpoint(sql: Sql | TransactionSql, endpointId: string): PendingQuery<Row[]> {
  return sql`(SELECT app_id FROM endpoints WHERE id = ${endpointId})`;
}

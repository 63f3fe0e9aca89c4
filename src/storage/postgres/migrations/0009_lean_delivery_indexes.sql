-- Every insert of a delivery and every change of its state writes an entry in each index of
-- `deliveries` whose predicate the new row version matches (its state columns are indexed, so
-- no update is HOT), and dead entries stay until vacuum. The indexes are fitted to the hot
-- queries:
-- * live leases of an endpoint (the cross-node concurrency cap) are the range after now of
--   deliveries_leased: only leases are in it, so expired leases and finished deliveries are
--   never visited (it replaces deliveries_sending, which held every lease, expired or not);
-- * due work is found per endpoint (claims, the due sweep, the next due time), all on
--   deliveries_due_by_endpoint, led by the endpoint id; deliveries_due (by time alone) goes:
--   the planner chose it for a claim when few endpoints had backlog, walking every
--   endpoint's due rows to find one endpoint's, and it cost an index entry per write;
-- * retention's probe for unfinished deliveries of a message uses the (message_id,
--   endpoint_id) unique index (a message has one delivery per endpoint), so
--   deliveries_open_by_message goes: one index entry fewer per insert and per retry.
DROP INDEX IF EXISTS deliveries_sending;
DROP INDEX IF EXISTS deliveries_open_by_message;
DROP INDEX IF EXISTS deliveries_due;
CREATE INDEX deliveries_leased ON deliveries (endpoint_id, next_attempt_at) WHERE status = 3;

-- Every insert of a delivery and every change of its state writes an entry in each index of
-- `deliveries` whose predicate the new row version matches (its state columns are indexed, so
-- no update is HOT). Two indexes only repeated what others serve:
-- * live leases of an endpoint (status 3) are counted on deliveries_due_by_endpoint, which
--   holds every open delivery by (endpoint_id, next_attempt_at): a lease's next_attempt_at is
--   its end, so the live ones are the range after now;
-- * retention's probe for unfinished deliveries of a message uses the (message_id, endpoint_id)
--   unique index: a message has one delivery per endpoint.
DROP INDEX IF EXISTS deliveries_sending;
DROP INDEX IF EXISTS deliveries_open_by_message;

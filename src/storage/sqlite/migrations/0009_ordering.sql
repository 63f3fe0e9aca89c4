-- Ordered delivery (docs/ordering.md). A message may carry an explicit ordering key.
ALTER TABLE messages ADD COLUMN ordering_key TEXT;
-- A delivery to an ordered endpoint carries its message's key for that endpoint ('' for a
-- message without one) and its position (the message's seq); NULL on unordered endpoints.
-- ordering_released: a failed delivery the caller let go of (it no longer pauses its key).
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
ALTER TABLE deliveries ADD COLUMN ordering_seq INTEGER;
ALTER TABLE deliveries ADD COLUMN ordering_released INTEGER NOT NULL DEFAULT 0;
-- Only keyed rows are indexed, so unordered endpoints pay nothing for these.
-- The oldest unfinished delivery of each key, and the keys that have one.
CREATE INDEX deliveries_ordered_open ON deliveries (endpoint_id, ordering_key, ordering_seq) WHERE ordering_key IS NOT NULL AND status IN (1, 3);
-- A key with a delivery in flight.
CREATE INDEX deliveries_ordered_sending ON deliveries (endpoint_id, ordering_key) WHERE ordering_key IS NOT NULL AND status = 3;
-- A key paused by a failed delivery.
CREATE INDEX deliveries_ordered_failed ON deliveries (endpoint_id, ordering_key, ordering_seq) WHERE ordering_key IS NOT NULL AND status = 2 AND ordering_released = 0;

-- Messages range-partitioned by id, one partition per UTC day, so retention drops a day of
-- messages (payloads are most of the database) with `DROP TABLE` instead of deleting them row
-- by row (storage/postgres/message-partitions.ts keeps them: days ahead created, days past
-- retention dropped). Message ids begin with their creation time (domain/ids.ts): a day's
-- messages are the ids from the day's boundary id (its first millisecond, then zeros) up to
-- the next day's.
--
-- The keys are led by the application id: the primary key is (app_id, id), which replaces
-- both the old primary key (id) and the index messages_app (app_id, id), so a message costs
-- one index entry fewer. Every statement that finds a message names its application.
--
-- A partitioned table's unique indexes must contain the partition key, so the unique
-- (app_id, event_id) index cannot stay: event-id deduplication moves to message_event_ids,
-- one row per message published with an event id, deleted with its message.
--
-- The existing table is not copied: it becomes the first partition, `messages_history`,
-- holding every id before the day after its newest message (tomorrow at the earliest).
-- Attaching it builds its new primary key and scans it once to check the bound. Daily
-- partitions `messages_pYYYYMMDD` follow up to three days ahead of today, and
-- `messages_default` takes any id no partition covers, so a publish never fails.
CREATE TABLE message_event_ids (
  app_id TEXT COLLATE "C" NOT NULL,
  event_id TEXT COLLATE "C" NOT NULL,
  message_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (app_id, event_id)
);
CREATE INDEX message_event_ids_message ON message_event_ids (app_id, message_id);
INSERT INTO message_event_ids (app_id, event_id, message_id) SELECT app_id, event_id, id FROM messages WHERE event_id IS NOT NULL;

DROP TRIGGER messages_raise_horizon ON messages;
ALTER TABLE messages RENAME TO messages_history;
ALTER TABLE messages_history DROP CONSTRAINT messages_pkey;
DROP INDEX messages_event_id;
DROP INDEX messages_app;
ALTER INDEX messages_app_seq RENAME TO messages_history_app_seq;

CREATE TABLE messages (
  id TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  event_type TEXT COLLATE "C" NOT NULL,
  event_id TEXT COLLATE "C",
  channels JSONB,
  tags JSONB,
  payload TEXT,
  created_at BIGINT NOT NULL,
  seq BIGINT,
  ordering_key TEXT,
  PRIMARY KEY (app_id, id)
) PARTITION BY RANGE (id);
CREATE INDEX messages_app_seq ON messages (app_id, seq);
CREATE TABLE messages_default PARTITION OF messages DEFAULT;
-- Deleting messages row by row still raises the pull horizon; dropping a partition raises it
-- in the same transaction (message-partitions.ts).
CREATE TRIGGER messages_raise_horizon AFTER DELETE ON messages
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION switchboard_raise_horizon();

-- The boundary id of a time (domain/ids.ts `idBoundary`): the prefix, then the 20 bytes of the
-- 6-byte time and 14 zero bytes in 27 base62 digits.
CREATE FUNCTION pg_temp.id_boundary(prefix TEXT, ms BIGINT) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  alphabet CONSTANT TEXT := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  n NUMERIC := (ms % 281474976710656)::NUMERIC * 5192296858534827628530496329220096;
  body TEXT := '';
BEGIN
  FOR i IN 1..27 LOOP
    body := substr(alphabet, mod(n, 62)::INT + 1, 1) || body;
    n := div(n, 62);
  END LOOP;
  RETURN prefix || body;
END $$;

DO $$
DECLARE
  day CONSTANT BIGINT := 86400000;
  today BIGINT := (extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC')) * 1000)::BIGINT;
  newest BIGINT;
  bound BIGINT;
BEGIN
  SELECT max(created_at) INTO newest FROM messages_history;
  bound := greatest(today + day, coalesce((newest / day + 1) * day, 0));
  -- An id at or past the bound (one not made from its message's creation time) cannot stay in
  -- the first partition: it waits aside and is inserted again once the partitions exist.
  CREATE TEMP TABLE messages_aside ON COMMIT DROP AS
    WITH moved AS (DELETE FROM messages_history WHERE id >= pg_temp.id_boundary('msg_', bound) RETURNING *) SELECT * FROM moved;
  EXECUTE format('ALTER TABLE messages ATTACH PARTITION messages_history FOR VALUES FROM (MINVALUE) TO (%L)', pg_temp.id_boundary('msg_', bound));
  WHILE bound <= today + 3 * day LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L)',
      'messages_p' || to_char(to_timestamp(bound / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD'),
      pg_temp.id_boundary('msg_', bound), pg_temp.id_boundary('msg_', bound + day));
    bound := bound + day;
  END LOOP;
  INSERT INTO messages SELECT * FROM messages_aside;
END $$;

DROP FUNCTION pg_temp.id_boundary(TEXT, BIGINT);

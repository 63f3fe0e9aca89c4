-- Attempts range-partitioned by `created_at` (ms since epoch, UTC days), so retention drops
-- whole partitions instead of deleting rows (storage/postgres/attempt-partitions.ts keeps
-- them: days ahead created, days past retention dropped).
--
-- The existing table is not copied: it becomes the first partition, `attempts_history`,
-- holding everything before the start of the day after its newest row (tomorrow at the
-- earliest). Attaching it builds its new primary key and scans it once to check the bound;
-- its two secondary indexes serve the partitioned table's as they are.
--
-- A partitioned table's unique indexes must contain the partition key: the primary key
-- becomes (id, created_at). Attempt ids begin with their creation time (domain/ids.ts), so
-- the id still identifies and orders an attempt.
--
-- Daily partitions `attempts_pYYYYMMDD` follow up to three days ahead of today, and
-- `attempts_default` takes any row no partition covers (partitions not created ahead while
-- every node was down, a clock that jumped), so an insert never fails.
ALTER TABLE attempts RENAME TO attempts_history;
ALTER TABLE attempts_history DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts_history ADD CONSTRAINT attempts_history_pkey PRIMARY KEY (id, created_at);
ALTER INDEX attempts_message RENAME TO attempts_history_message;
ALTER INDEX attempts_endpoint RENAME TO attempts_history_endpoint;

CREATE TABLE attempts (
  id TEXT COLLATE "C" NOT NULL,
  message_id TEXT COLLATE "C" NOT NULL,
  endpoint_id TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  url TEXT NOT NULL,
  status SMALLINT NOT NULL,
  response_status_code INTEGER NOT NULL,
  response TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  trigger SMALLINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX attempts_message ON attempts (message_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

DO $$
DECLARE
  day CONSTANT BIGINT := 86400000;
  today BIGINT := (extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC')) * 1000)::BIGINT;
  newest BIGINT;
  bound BIGINT;
BEGIN
  SELECT max(created_at) INTO newest FROM attempts_history;
  bound := greatest(today + day, coalesce((newest / day + 1) * day, 0));
  EXECUTE format('ALTER TABLE attempts ATTACH PARTITION attempts_history FOR VALUES FROM (MINVALUE) TO (%s)', bound);
  WHILE bound <= today + 3 * day LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF attempts FOR VALUES FROM (%s) TO (%s)',
      'attempts_p' || to_char(to_timestamp(bound / 1000) AT TIME ZONE 'UTC', 'YYYYMMDD'), bound, bound + day);
    bound := bound + day;
  END LOOP;
END $$;

CREATE TABLE attempts_default PARTITION OF attempts DEFAULT;

-- Ingest sources. The application named by the source id (uid = source id) holds the
-- source's endpoints and messages.
CREATE TABLE ingest_sources (
  id TEXT COLLATE "C" PRIMARY KEY,
  uid TEXT COLLATE "C" UNIQUE,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  config TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- URL tokens, found by their SHA-256; expires_at is NULL for the current one.
CREATE TABLE ingest_tokens (
  hash TEXT COLLATE "C" PRIMARY KEY,
  source_id TEXT COLLATE "C" NOT NULL,
  sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT
);
CREATE INDEX ingest_tokens_source ON ingest_tokens (source_id);

-- Rejected requests, newest kept per source.
CREATE TABLE ingest_logs (
  id TEXT COLLATE "C" PRIMARY KEY,
  source_id TEXT COLLATE "C" NOT NULL,
  status_code INTEGER NOT NULL,
  error_text TEXT NOT NULL,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX ingest_logs_source ON ingest_logs (source_id, id);

-- Schedules of poll and cron sources. While a run holds the lease, next_run_at is the
-- end of the lease and tick_at keeps the scheduled time being run.
CREATE TABLE source_runs (
  source_id TEXT COLLATE "C" PRIMARY KEY,
  next_run_at BIGINT NOT NULL,
  tick_at BIGINT NOT NULL,
  lease_token BIGINT NOT NULL DEFAULT 0,
  running INTEGER NOT NULL DEFAULT 0,
  last_run_at BIGINT,
  last_outcome TEXT,
  last_error TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  etag TEXT,
  last_modified TEXT,
  primed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX source_runs_due ON source_runs (next_run_at);

-- What a polling source has seen: item key -> content hash.
CREATE TABLE poll_items (
  source_id TEXT COLLATE "C" NOT NULL,
  item_key TEXT COLLATE "C" NOT NULL,
  hash TEXT COLLATE "C" NOT NULL,
  seen_at BIGINT NOT NULL,
  PRIMARY KEY (source_id, item_key)
);
CREATE INDEX poll_items_seen ON poll_items (source_id, seen_at);

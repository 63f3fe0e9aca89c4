-- Streams: streams, their event types, sinks with their delivery state, the event log of each
-- stream, delivery attempts of sinks, and stream tokens (portal and poller).
CREATE TABLE streams (
  id TEXT PRIMARY KEY,
  uid TEXT UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  metadata TEXT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE stream_event_types (
  name TEXT PRIMARY KEY,
  description TEXT,
  archived BOOLEAN NOT NULL,
  deprecated BOOLEAN NOT NULL,
  feature_flags TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE stream_sinks (
  id TEXT PRIMARY KEY,
  stream_id TEXT NOT NULL,
  uid TEXT,
  type TEXT NOT NULL,
  config TEXT NOT NULL,
  batch_size INTEGER NOT NULL,
  max_wait_secs INTEGER NOT NULL,
  event_types TEXT NOT NULL,
  metadata TEXT NOT NULL,
  status TEXT NOT NULL,
  failure_reason TEXT,
  next_retry_at BIGINT,
  failures INTEGER NOT NULL,
  cursor BIGINT NOT NULL,
  secret TEXT NOT NULL,
  headers TEXT NOT NULL,
  transformation_code TEXT,
  transformation_enabled BOOLEAN NOT NULL,
  lease_until BIGINT,
  lease_token BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (stream_id, uid)
);
CREATE INDEX stream_sinks_stream ON stream_sinks (stream_id, id);
-- Sinks the dispatcher may lease: a partial index, small however many pollers there are.
CREATE INDEX stream_sinks_due ON stream_sinks (stream_id, next_retry_at) WHERE type <> 'poller' AND status IN ('enabled', 'retrying');
CREATE TABLE stream_events (
  stream_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (stream_id, seq),
  UNIQUE (stream_id, id)
);
CREATE INDEX stream_events_time ON stream_events (stream_id, created_at);
CREATE TABLE stream_sink_attempts (
  id TEXT PRIMARY KEY,
  stream_id TEXT NOT NULL,
  sink_id TEXT NOT NULL,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  count INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  response_status INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX stream_sink_attempts_sink ON stream_sink_attempts (stream_id, sink_id, id);
CREATE TABLE stream_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  sink_id TEXT,
  session_id TEXT,
  sealed TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX stream_tokens_stream ON stream_tokens (stream_id, sink_id);

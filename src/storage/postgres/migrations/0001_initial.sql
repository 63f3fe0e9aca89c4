-- Identifiers and names sort byte-wise ("C"), as in SQLite: ids embed their creation time.
CREATE TABLE applications (
  id TEXT COLLATE "C" PRIMARY KEY,
  uid TEXT COLLATE "C" UNIQUE,
  name TEXT NOT NULL,
  throttle_rate INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  header_style TEXT NOT NULL DEFAULT 'standard',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE event_types (
  name TEXT COLLATE "C" PRIMARY KEY,
  description TEXT NOT NULL,
  archived BOOLEAN NOT NULL DEFAULT FALSE,
  deprecated BOOLEAN NOT NULL DEFAULT FALSE,
  feature_flag TEXT,
  schemas TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE endpoints (
  id TEXT COLLATE "C" PRIMARY KEY,
  app_id TEXT COLLATE "C" NOT NULL,
  uid TEXT COLLATE "C",
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  event_types TEXT,
  channels TEXT,
  throttle_rate INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  headers TEXT NOT NULL DEFAULT '{}',
  secrets TEXT NOT NULL,
  failing_since BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (app_id, uid)
);
CREATE INDEX endpoints_app ON endpoints (app_id, id);

CREATE TABLE messages (
  id TEXT COLLATE "C" PRIMARY KEY,
  app_id TEXT COLLATE "C" NOT NULL,
  event_type TEXT COLLATE "C" NOT NULL,
  event_id TEXT COLLATE "C",
  channels JSONB,
  tags JSONB,
  payload TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX messages_app ON messages (app_id, id);
CREATE UNIQUE INDEX messages_event_id ON messages (app_id, event_id) WHERE event_id IS NOT NULL;

-- One row per (message, endpoint). status: 0 success, 1 pending, 2 fail, 3 sending.
-- While sending, next_attempt_at holds the end of the lease, so one index finds
-- both due deliveries and expired leases.
CREATE TABLE deliveries (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id TEXT COLLATE "C" NOT NULL,
  endpoint_id TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  status SMALLINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  lease_token BIGINT NOT NULL DEFAULT 0,
  trigger SMALLINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (message_id, endpoint_id)
);
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN (1, 3);
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, created_at);
-- Live leases per endpoint, counted against the concurrency cap on every claim.
CREATE INDEX deliveries_sending ON deliveries (endpoint_id) WHERE status = 3;
-- Retention keeps messages with unfinished deliveries: a probe of this small index per message.
CREATE INDEX deliveries_open_by_message ON deliveries (message_id) WHERE status IN (1, 3);

CREATE TABLE attempts (
  id TEXT COLLATE "C" PRIMARY KEY,
  message_id TEXT COLLATE "C" NOT NULL,
  endpoint_id TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  url TEXT NOT NULL,
  status SMALLINT NOT NULL,
  response_status_code INTEGER NOT NULL,
  response TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  trigger SMALLINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX attempts_message ON attempts (message_id, id);
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);

CREATE TABLE idempotency_keys (
  key TEXT COLLATE "C" PRIMARY KEY,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  content_type TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

-- Per-endpoint claim state shared by every node: the rate-limit token bucket. Claims of one
-- endpoint lock its row, so the concurrency cap and the bucket hold across nodes.
CREATE TABLE endpoint_limits (
  endpoint_id TEXT COLLATE "C" PRIMARY KEY,
  -- Negative: a fresh bucket, full at its first use.
  tokens DOUBLE PRECISION NOT NULL,
  updated_at BIGINT NOT NULL
);

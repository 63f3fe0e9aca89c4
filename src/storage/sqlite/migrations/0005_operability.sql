-- Operational webhook endpoints: the operator's receivers of events about Switchboard itself.
CREATE TABLE operational_endpoints (
  id TEXT PRIMARY KEY,
  uid TEXT UNIQUE,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  event_types TEXT,
  throttle_rate INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  headers TEXT NOT NULL DEFAULT '{}',
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

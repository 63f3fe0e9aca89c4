-- Pull: a gap-free position for every message, polling endpoints, their consumers and tokens.

-- seq: the message's position in the log, assigned inside the publishing transaction from a
-- counter that never goes back. SQLite has one writer at a time, so seqs become visible in
-- commit order, and deleting the newest message never frees its number for reuse.
ALTER TABLE messages ADD COLUMN seq INTEGER;
CREATE TABLE pull_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
INSERT INTO pull_sequence (id, last) SELECT 1, COALESCE(MAX(rowid), 0) FROM messages;
UPDATE messages SET seq = rowid;
CREATE INDEX messages_app_seq ON messages (app_id, seq);

CREATE TRIGGER messages_assign_seq AFTER INSERT ON messages BEGIN
  UPDATE pull_sequence SET last = last + 1 WHERE id = 1;
  UPDATE messages SET seq = (SELECT last FROM pull_sequence WHERE id = 1) WHERE rowid = NEW.rowid;
END;

-- The retention horizon: per application, the highest seq ever deleted. A cursor below it
-- would silently skip a deleted message, so readers answer 410 instead.
CREATE TABLE pull_horizon (app_id TEXT PRIMARY KEY, purged_seq INTEGER NOT NULL);
CREATE TRIGGER messages_raise_horizon AFTER DELETE ON messages WHEN OLD.seq IS NOT NULL BEGIN
  INSERT INTO pull_horizon (app_id, purged_seq) VALUES (OLD.app_id, OLD.seq)
    ON CONFLICT (app_id) DO UPDATE SET purged_seq = MAX(purged_seq, excluded.purged_seq);
END;

CREATE TABLE polling_endpoints (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL,
  uid TEXT,
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT,
  channels TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (app_id, uid)
);
CREATE INDEX polling_endpoints_app ON polling_endpoints (app_id, id);

-- A consumer's committed cursor: every message with seq <= cursor has been acknowledged.
CREATE TABLE polling_consumers (
  polling_endpoint_id TEXT NOT NULL,
  consumer_id TEXT NOT NULL,
  cursor INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (polling_endpoint_id, consumer_id)
) WITHOUT ROWID;

-- Tokens are found by their SHA-256. The API shows the current token again
-- (GET .../poller/{id}/token), so it is also kept, sealed with the operator key when one is set.
CREATE TABLE poller_tokens (
  id TEXT PRIMARY KEY,
  polling_endpoint_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX poller_tokens_endpoint ON poller_tokens (polling_endpoint_id, created_at);

CREATE TRIGGER applications_drop_pull AFTER DELETE ON applications BEGIN
  DELETE FROM polling_consumers WHERE polling_endpoint_id IN (SELECT id FROM polling_endpoints WHERE app_id = OLD.id);
  DELETE FROM poller_tokens WHERE app_id = OLD.id;
  DELETE FROM polling_endpoints WHERE app_id = OLD.id;
  DELETE FROM pull_horizon WHERE app_id = OLD.id;
END;

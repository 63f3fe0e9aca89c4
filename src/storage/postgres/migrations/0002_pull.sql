-- Pull: a gap-free position for every message, polling endpoints, their consumers and tokens.

-- seq: the message's position in the log. The publishing transaction locks the one
-- pull_sequence row before numbering its messages and keeps the lock until it commits, so
-- positions become visible in commit order across all nodes, and a reader never passes a
-- position that a later commit could fill. Deleting the newest message never frees its number.
ALTER TABLE messages ADD COLUMN seq BIGINT;
CREATE TABLE pull_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL);
UPDATE messages m SET seq = n.seq FROM (SELECT id, row_number() OVER (ORDER BY id) AS seq FROM messages) n WHERE n.id = m.id;
INSERT INTO pull_sequence (id, last) SELECT 1, COALESCE(MAX(seq), 0) FROM messages;
CREATE INDEX messages_app_seq ON messages (app_id, seq);

-- The retention horizon: per application, the highest seq ever deleted. A cursor below it
-- would silently skip a deleted message, so readers answer 410 instead.
CREATE TABLE pull_horizon (app_id TEXT COLLATE "C" PRIMARY KEY, purged_seq BIGINT NOT NULL);

CREATE FUNCTION switchboard_raise_horizon() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pull_horizon (app_id, purged_seq)
    SELECT app_id, MAX(seq) FROM gone WHERE seq IS NOT NULL GROUP BY app_id
    ON CONFLICT (app_id) DO UPDATE SET purged_seq = GREATEST(pull_horizon.purged_seq, EXCLUDED.purged_seq);
  RETURN NULL;
END $$;
CREATE TRIGGER messages_raise_horizon AFTER DELETE ON messages
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION switchboard_raise_horizon();

CREATE TABLE polling_endpoints (
  id TEXT COLLATE "C" PRIMARY KEY,
  app_id TEXT COLLATE "C" NOT NULL,
  uid TEXT COLLATE "C",
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT,
  channels TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (app_id, uid)
);
CREATE INDEX polling_endpoints_app ON polling_endpoints (app_id, id);

-- A consumer's committed cursor: every message with seq <= cursor has been acknowledged.
CREATE TABLE polling_consumers (
  polling_endpoint_id TEXT COLLATE "C" NOT NULL,
  consumer_id TEXT COLLATE "C" NOT NULL,
  cursor BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (polling_endpoint_id, consumer_id)
);

-- Tokens are found by their SHA-256. The API shows the current token again
-- (GET .../poller/{id}/token), so it is also kept, sealed with the operator key when one is set.
CREATE TABLE poller_tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  polling_endpoint_id TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C" NOT NULL,
  token_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  -- Insertion order, to pick the newest of tokens created in the same millisecond.
  n BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX poller_tokens_endpoint ON poller_tokens (polling_endpoint_id, created_at);

CREATE FUNCTION switchboard_drop_pull() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM polling_consumers WHERE polling_endpoint_id IN (SELECT id FROM polling_endpoints WHERE app_id = OLD.id);
  DELETE FROM poller_tokens WHERE app_id = OLD.id;
  DELETE FROM polling_endpoints WHERE app_id = OLD.id;
  DELETE FROM pull_horizon WHERE app_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER applications_drop_pull AFTER DELETE ON applications FOR EACH ROW EXECUTE FUNCTION switchboard_drop_pull();

-- Every key of the delivery path led by the application id, as messages' are since 0037: a
-- distributed PostgreSQL (Citus, distributing every tenant table by `app_id`) needs the
-- distribution column in every primary key and unique constraint, and a statement that names
-- the application reaches one shard. Every statement on these tables names its application:
-- given by the caller (attempt records, lease references, API paths) or, where only an
-- endpoint id is at hand (claims, the sweep's wake-ups), read from the endpoint's row in the
-- same statement.
--
-- Indexes are rebuilt, not copied: on a large table this migration takes a while (each index
-- is built once, under the table's lock). Nodes of the version before cannot run on this
-- schema (they find deliveries by id alone): stop them all, migrate, then start this version
-- (docs/scaling.md).

-- deliveries
ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_pkey PRIMARY KEY (app_id, id);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_message_id_endpoint_id_key;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_message_endpoint UNIQUE (app_id, message_id, endpoint_id);

-- endpoint_limits: the endpoint's application joins its key (rows of endpoints that no longer
-- exist go).
ALTER TABLE endpoint_limits ADD COLUMN app_id TEXT COLLATE "C";
UPDATE endpoint_limits l SET app_id = e.app_id FROM endpoints e WHERE e.id = l.endpoint_id;
DELETE FROM endpoint_limits WHERE app_id IS NULL;
ALTER TABLE endpoint_limits ALTER COLUMN app_id SET NOT NULL;
ALTER TABLE endpoint_limits DROP CONSTRAINT endpoint_limits_pkey;
ALTER TABLE endpoint_limits ADD CONSTRAINT endpoint_limits_pkey PRIMARY KEY (app_id, endpoint_id);

-- attempts (partitioned by created_at: each partition's indexes are rebuilt with the table's)
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE attempts ADD CONSTRAINT attempts_pkey PRIMARY KEY (app_id, id, created_at);

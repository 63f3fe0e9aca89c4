-- Integrations: named API credentials of one application. The key is kept twice: as a
-- SHA-256 hash to recognise it, and sealed (SecretBox) so that it can be read back.
CREATE TABLE integrations (
  id TEXT COLLATE "C" PRIMARY KEY,
  app_id TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  feature_flags TEXT,
  key_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  sealed_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX integrations_app ON integrations (app_id, id);

-- Connectors: organisation-wide transformation templates endpoints can be created from.
CREATE TABLE connectors (
  id TEXT COLLATE "C" PRIMARY KEY,
  uid TEXT COLLATE "C" UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  instructions TEXT NOT NULL,
  kind TEXT NOT NULL,
  logo TEXT,
  product_type TEXT NOT NULL,
  transformation TEXT NOT NULL,
  feature_flags TEXT,
  allowed_event_types TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  transformation_updated_at BIGINT NOT NULL
);
CREATE INDEX connectors_product ON connectors (product_type, id);

-- Credentials: API keys, OAuth clients and signing keys, app-portal tokens.
-- Tokens and client secrets are stored only as SHA-256 hashes.

CREATE TABLE api_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT COLLATE "C" NOT NULL,
  hash TEXT COLLATE "C" NOT NULL UNIQUE,
  app_id TEXT COLLATE "C",
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT,
  last_used_at BIGINT
);
CREATE INDEX api_keys_app ON api_keys (app_id, id);

CREATE TABLE oauth_clients (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT COLLATE "C" NOT NULL,
  app_id TEXT COLLATE "C",
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_used_at BIGINT
);

CREATE TABLE oauth_signing_keys (
  kid TEXT COLLATE "C" PRIMARY KEY,
  alg TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT
);

CREATE TABLE portal_tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  hash TEXT COLLATE "C" NOT NULL UNIQUE,
  app_id TEXT COLLATE "C" NOT NULL,
  scopes TEXT NOT NULL,
  session_id TEXT COLLATE "C",
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX portal_tokens_app ON portal_tokens (app_id, expires_at);

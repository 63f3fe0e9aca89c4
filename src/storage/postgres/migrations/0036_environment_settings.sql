-- Environment settings: one row per setting, its value as JSON. Written by environment imports.
CREATE TABLE environment_settings (
  name TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

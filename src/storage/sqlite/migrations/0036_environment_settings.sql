-- Environment settings: one row per setting, its value as JSON. Written by environment imports.
CREATE TABLE environment_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

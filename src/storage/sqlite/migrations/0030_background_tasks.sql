-- Background tasks: recover, replay, bulk replay, purge of contents, usage aggregations.
CREATE TABLE background_tasks (
  id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  status TEXT NOT NULL,
  app_id TEXT,
  params TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX background_tasks_status ON background_tasks (status, id);

-- Background tasks get an owner (the node running one), a lease the owner renews while it
-- runs (a task whose lease ran out is taken over by another node), and the checkpoint a
-- resumed run continues from. Tasks left running before this have no lease: taken at once.
ALTER TABLE background_tasks ADD COLUMN owner TEXT;
ALTER TABLE background_tasks ADD COLUMN lease_until INTEGER;
ALTER TABLE background_tasks ADD COLUMN checkpoint TEXT;

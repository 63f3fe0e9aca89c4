-- Content filters and transformations of endpoints. `transformation` is JSON
-- ({code, enabled, variables, updatedAt}), sealed like other secrets at rest.
ALTER TABLE endpoints ADD COLUMN filter TEXT;
ALTER TABLE endpoints ADD COLUMN transformation TEXT;

-- The dashboard's alert counts and "where did it go" look deliveries up by
-- story.
CREATE INDEX deliveries_story ON deliveries (story_id) WHERE story_id <> '';

-- Story clusters, follow-up threading, flood control and digest state.

ALTER TABLE stories ADD COLUMN cluster TEXT NOT NULL DEFAULT '';
CREATE INDEX stories_cluster ON stories (cluster) WHERE cluster <> '';

-- The first alert of a cluster to a target, found when a follow-up is planned.
CREATE INDEX deliveries_cluster ON deliveries (target, cluster) WHERE cluster <> '';

-- Instant alerts sent to a target in the last hour, counted by flood control.
CREATE INDEX deliveries_sent ON deliveries (target, sent) WHERE status = 'sent';

-- The end of each digest rule's last period.
CREATE TABLE digests (
	rule TEXT PRIMARY KEY,
	last INTEGER NOT NULL
);

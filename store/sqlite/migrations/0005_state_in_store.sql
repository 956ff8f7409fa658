-- Every decision that more than one worker could take lives in rows: which
-- source is due and who fetches it, which target's queue is being sent and by
-- whom, holds, flood-summary slots, cluster fingerprints, dashboard sessions,
-- and a counter that tells workers the rules changed.

-- Sources: next_fetch is now the next due time (NULL: due now). A fetch is
-- leased; the token fences a stale holder's writes. host keys the per-host
-- limit of the claims.
ALTER TABLE sources ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sources_due ON sources (COALESCE(next_fetch, 0)) WHERE paused = 0;
CREATE INDEX sources_leased ON sources (lease_until, host);

-- One row per target: its queue's lease, the hold a receiver asked for, the
-- last flood summary, and its health for people.
CREATE TABLE lanes (
	target        TEXT PRIMARY KEY,
	lease_owner   TEXT    NOT NULL DEFAULT '',
	lease_token   INTEGER NOT NULL DEFAULT 0,
	lease_until   INTEGER NOT NULL DEFAULT 0,
	hold_until    INTEGER NOT NULL DEFAULT 0,
	hold_reason   TEXT    NOT NULL DEFAULT '',
	last_summary  INTEGER NOT NULL DEFAULT 0,
	last_sent     INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT    NOT NULL DEFAULT '',
	last_error_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO lanes (target, last_summary, last_sent)
SELECT target,
       COALESCE(MAX(CASE WHEN status = 'summarised' THEN sent END), 0),
       COALESCE(MAX(CASE WHEN status IN ('sent', 'summarised') THEN sent END), 0)
FROM deliveries GROUP BY target;

-- Why a pending row is not due yet, for people.
ALTER TABLE deliveries ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
-- A target's due rows, for its lane.
CREATE INDEX deliveries_pending ON deliveries (target, next_attempt) WHERE status = 'pending';

-- Cluster fingerprints of recent stories (by the story's rid), and the keys
-- they are filed under, so that a new story's candidates are found in the
-- ingest transaction. A fingerprint repeats what a candidate needs of its
-- story (id, cluster, source, first fetch), so that the lookup reads these
-- narrow rows and never a story's text.
CREATE TABLE fingerprints (
	rid      INTEGER PRIMARY KEY,
	story_id TEXT    NOT NULL,
	cluster  TEXT    NOT NULL,
	source   TEXT    NOT NULL,
	fetched  INTEGER NOT NULL,
	sig      BLOB    NOT NULL
);
CREATE TABLE fingerprint_keys (
	key INTEGER NOT NULL,
	rid INTEGER NOT NULL,
	PRIMARY KEY (key, rid)
) WITHOUT ROWID;

-- Dashboard sessions, by the SHA-256 of their secret.
CREATE TABLE sessions (
	hash    BLOB PRIMARY KEY,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires);

-- Change counters that workers poll.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('rules', 1);

CREATE TRIGGER rules_changed_insert AFTER INSERT ON rules BEGIN
	UPDATE counters SET value = value + 1 WHERE name = 'rules';
END;
CREATE TRIGGER rules_changed_update AFTER UPDATE ON rules BEGIN
	UPDATE counters SET value = value + 1 WHERE name = 'rules';
END;
CREATE TRIGGER rules_changed_delete AFTER DELETE ON rules BEGIN
	UPDATE counters SET value = value + 1 WHERE name = 'rules';
END;

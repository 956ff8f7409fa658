-- One row per fetch attempt of a source; LogFetch keeps each source's newest
-- 200 (store.FetchLogKeep). A source's log goes with the source.
CREATE TABLE fetch_log (
	id           INTEGER PRIMARY KEY,
	source_id    INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
	at           INTEGER NOT NULL,
	status       INTEGER NOT NULL DEFAULT 0,
	not_modified INTEGER NOT NULL DEFAULT 0,
	items        INTEGER NOT NULL DEFAULT 0,
	fresh        INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0,
	duration_ms  INTEGER NOT NULL DEFAULT 0,
	error        TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX fetch_log_source_at ON fetch_log (source_id, at);

-- wirewatch schema, version 1. Times are UTC unix milliseconds (NULL: unset);
-- lists are JSON arrays of strings.

CREATE TABLE sources (
	id             INTEGER PRIMARY KEY,
	name           TEXT    NOT NULL UNIQUE,
	url            TEXT    NOT NULL,
	interval_ms    INTEGER NOT NULL DEFAULT 0,
	schedule       TEXT    NOT NULL DEFAULT '',
	backfill       INTEGER NOT NULL DEFAULT 0,
	origin         TEXT    NOT NULL,
	added_by       TEXT    NOT NULL DEFAULT '',
	paused         INTEGER NOT NULL DEFAULT 0,
	created        INTEGER NOT NULL,
	-- fetch state
	etag           TEXT    NOT NULL DEFAULT '',
	last_modified  TEXT    NOT NULL DEFAULT '',
	last_fetch     INTEGER,
	last_success   INTEGER,
	last_status    INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT    NOT NULL DEFAULT '',
	failures       INTEGER NOT NULL DEFAULT 0,
	failing_since  INTEGER,
	next_fetch     INTEGER,
	primed         INTEGER NOT NULL DEFAULT 0,
	health_alerted INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sources_url ON sources (url);

-- rid is an alias of the rowid, so that the rowids the FTS index refers to
-- survive VACUUM; id is the story's own key.
CREATE TABLE stories (
	rid           INTEGER PRIMARY KEY,
	id            TEXT    NOT NULL UNIQUE,
	source_id     INTEGER NOT NULL DEFAULT 0,
	source        TEXT    NOT NULL DEFAULT '',
	guid          TEXT    NOT NULL DEFAULT '',
	title         TEXT    NOT NULL DEFAULT '',
	summary       TEXT    NOT NULL DEFAULT '',
	content       TEXT    NOT NULL DEFAULT '',
	url           TEXT    NOT NULL DEFAULT '',
	canonical_url TEXT    NOT NULL DEFAULT '',
	author        TEXT    NOT NULL DEFAULT '',
	categories    TEXT    NOT NULL DEFAULT '[]',
	published     INTEGER,
	fetched       INTEGER NOT NULL
);

CREATE INDEX stories_canonical_url ON stories (canonical_url);
CREATE INDEX stories_published ON stories (published);
CREATE INDEX stories_source_published ON stories (source_id, published);
-- fetched first for Prune; source_id makes the 7-day count per source covered.
CREATE INDEX stories_fetched ON stories (fetched, source_id);

CREATE VIRTUAL TABLE stories_fts USING fts5 (
	title, summary, content,
	content = 'stories',
	content_rowid = 'rid',
	tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER stories_fts_insert AFTER INSERT ON stories BEGIN
	INSERT INTO stories_fts (rowid, title, summary, content)
	VALUES (new.rid, new.title, new.summary, new.content);
END;

CREATE TRIGGER stories_fts_delete AFTER DELETE ON stories BEGIN
	INSERT INTO stories_fts (stories_fts, rowid, title, summary, content)
	VALUES ('delete', old.rid, old.title, old.summary, old.content);
END;

CREATE TRIGGER stories_fts_update AFTER UPDATE OF title, summary, content ON stories BEGIN
	INSERT INTO stories_fts (stories_fts, rowid, title, summary, content)
	VALUES ('delete', old.rid, old.title, old.summary, old.content);
	INSERT INTO stories_fts (rowid, title, summary, content)
	VALUES (new.rid, new.title, new.summary, new.content);
END;

CREATE TABLE matches (
	story_id TEXT    NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
	rule     TEXT    NOT NULL,
	terms    TEXT    NOT NULL DEFAULT '[]',
	at       INTEGER NOT NULL,
	PRIMARY KEY (story_id, rule)
) WITHOUT ROWID;

CREATE INDEX matches_at ON matches (at, rule);

CREATE TABLE rules (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL UNIQUE,
	query       TEXT    NOT NULL,
	notify      TEXT    NOT NULL DEFAULT '[]',
	digest      TEXT    NOT NULL DEFAULT '',
	timezone    TEXT    NOT NULL DEFAULT '',
	sources     TEXT    NOT NULL DEFAULT '[]',
	follow_ups  TEXT    NOT NULL DEFAULT '',
	min_sources INTEGER NOT NULL DEFAULT 0,
	window_ms   INTEGER NOT NULL DEFAULT 0,
	paused      INTEGER NOT NULL DEFAULT 0,
	origin      TEXT    NOT NULL,
	author      TEXT    NOT NULL DEFAULT '',
	channel     TEXT    NOT NULL DEFAULT '',
	created     INTEGER NOT NULL
);

-- The outbox. story_id is not a foreign key: a sent alert outlives its story.
CREATE TABLE deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	target       TEXT    NOT NULL,
	kind         TEXT    NOT NULL DEFAULT '',
	story_id     TEXT    NOT NULL DEFAULT '',
	story_ids    TEXT    NOT NULL DEFAULT '[]',
	dedup_key    TEXT    NOT NULL DEFAULT '',
	rules        TEXT    NOT NULL DEFAULT '[]',
	terms        TEXT    NOT NULL DEFAULT '[]',
	cluster      TEXT    NOT NULL DEFAULT '',
	parent_id    INTEGER NOT NULL DEFAULT 0,
	text         TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL CHECK (status IN
		('pending', 'sent', 'failed', 'duplicate', 'folded', 'summarised')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER,
	last_error   TEXT    NOT NULL DEFAULT '',
	ref          TEXT    NOT NULL DEFAULT '',
	created      INTEGER NOT NULL,
	sent         INTEGER
);

-- A story goes to a target at most once; the rows that lost are kept as 'duplicate'.
CREATE UNIQUE INDEX deliveries_dedup ON deliveries (target, dedup_key)
	WHERE dedup_key <> '' AND status <> 'duplicate';
CREATE INDEX deliveries_due ON deliveries (status, next_attempt);

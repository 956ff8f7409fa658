-- Rule ids, and so the generated names "w<ID>" that match counts and the
-- delivery log refer to, must never be reused after a rule is deleted.
CREATE TABLE rules_new (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO rules_new SELECT * FROM rules;
DROP TABLE rules;
ALTER TABLE rules_new RENAME TO rules;

-- Named leases: roles one worker holds at a time (the Discord gateway,
-- periodic work), with a fencing token that moves when they change hands.
CREATE TABLE leases (
	name  TEXT PRIMARY KEY,
	owner TEXT    NOT NULL,
	token INTEGER NOT NULL,
	until INTEGER NOT NULL
) WITHOUT ROWID;

-- Keys seen recently (signed requests, chat events), so that a replay to
-- any replica is refused.
CREATE TABLE remembered (
	key   TEXT PRIMARY KEY,
	until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX remembered_until ON remembered (until);

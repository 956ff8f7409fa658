-- How many stored stories had each term of the cluster facts (cluster.Facts),
-- so that a new story weighs its names, numbers and words by their rarity.
-- term is the 32-bit term hash; the row of term -1 counts the stories. seen
-- is when a story last had the term (unix ms), to forget terms gone quiet.
CREATE TABLE term_counts (
	term INTEGER PRIMARY KEY,
	n    INTEGER NOT NULL,
	seen INTEGER NOT NULL
);
CREATE INDEX term_counts_seen ON term_counts (seen);

-- The names and numbers a story shares with the story of its cluster it was
-- joined to (a JSON list), shown where people ask why two stories are one.
ALTER TABLE stories ADD COLUMN cluster_why TEXT NOT NULL DEFAULT '[]';

-- How many stored stories had each term of the cluster facts (cluster.Facts),
-- so that a new story weighs its names, numbers and words by their rarity.
-- term is the 32-bit term hash; rows -1 to -16 count the stories (spread
-- over 16 rows so that replicas ingesting at once seldom wait for one row).
-- seen is when a story last had the term (unix ms), to forget terms gone
-- quiet.
CREATE TABLE term_counts (
	term bigint PRIMARY KEY,
	n    bigint NOT NULL,
	seen bigint NOT NULL
);
CREATE INDEX term_counts_seen ON term_counts (seen);

-- The names and numbers a story shares with the story of its cluster it was
-- joined to, shown where people ask why two stories are one.
ALTER TABLE stories ADD COLUMN cluster_why text[] NOT NULL DEFAULT '{}';

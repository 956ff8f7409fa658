-- wirewatch schema on PostgreSQL, version 1: the same tables as the SQLite
-- store's, so that both keep the same contract (store/storetest). Times are
-- UTC unix milliseconds (NULL or 0: unset, as in SQLite); lists are text
-- arrays. Leases compare with the database's clock (now_ms()).

CREATE FUNCTION now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
$$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE TABLE sources (
	id             bigserial PRIMARY KEY,
	name           text    NOT NULL UNIQUE,
	url            text    NOT NULL,
	interval_ms    bigint  NOT NULL DEFAULT 0,
	schedule       text    NOT NULL DEFAULT '',
	backfill       integer NOT NULL DEFAULT 0,
	origin         text    NOT NULL,
	added_by       text    NOT NULL DEFAULT '',
	paused         boolean NOT NULL DEFAULT false,
	created        bigint  NOT NULL,
	etag           text    NOT NULL DEFAULT '',
	last_modified  text    NOT NULL DEFAULT '',
	last_fetch     bigint,
	last_success   bigint,
	last_status    integer NOT NULL DEFAULT 0,
	last_error     text    NOT NULL DEFAULT '',
	failures       integer NOT NULL DEFAULT 0,
	failing_since  bigint,
	next_fetch     bigint,
	primed         boolean NOT NULL DEFAULT false,
	health_alerted boolean NOT NULL DEFAULT false,
	host           text    NOT NULL DEFAULT '',
	lease_owner    text    NOT NULL DEFAULT '',
	lease_token    bigint  NOT NULL DEFAULT 0,
	lease_until    bigint  NOT NULL DEFAULT 0
);
CREATE INDEX sources_url ON sources (url);
CREATE INDEX sources_due ON sources (COALESCE(next_fetch, 0)) WHERE NOT paused;
CREATE INDEX sources_leased ON sources (lease_until, host);

-- words is the full-text index of title, summary and content as the rules
-- package normalises them (the store is given the normaliser), with the
-- 'simple' configuration: no stemming, no stop words.
CREATE TABLE stories (
	rid           bigserial PRIMARY KEY,
	id            text     NOT NULL UNIQUE,
	source_id     bigint   NOT NULL DEFAULT 0,
	source        text     NOT NULL DEFAULT '',
	guid          text     NOT NULL DEFAULT '',
	title         text     NOT NULL DEFAULT '',
	summary       text     NOT NULL DEFAULT '',
	content       text     NOT NULL DEFAULT '',
	url           text     NOT NULL DEFAULT '',
	canonical_url text     NOT NULL DEFAULT '',
	author        text     NOT NULL DEFAULT '',
	categories    text[]   NOT NULL DEFAULT '{}',
	published     bigint,
	fetched       bigint   NOT NULL,
	cluster       text     NOT NULL DEFAULT '',
	words         tsvector NOT NULL DEFAULT ''
);
CREATE INDEX stories_canonical_url ON stories (canonical_url);
CREATE INDEX stories_published ON stories (published DESC NULLS LAST, rid DESC);
CREATE INDEX stories_source_published ON stories (source_id, published);
CREATE INDEX stories_fetched ON stories (fetched, source_id);
CREATE INDEX stories_cluster ON stories (cluster) WHERE cluster <> '';
CREATE INDEX stories_words ON stories USING gin (words);

CREATE TABLE matches (
	story_id text   NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
	rule     text   NOT NULL,
	terms    text[] NOT NULL DEFAULT '{}',
	at       bigint NOT NULL,
	PRIMARY KEY (story_id, rule)
);
CREATE INDEX matches_at ON matches (at, rule);
CREATE INDEX matches_rule_at ON matches (rule, at);

CREATE TABLE rules (
	id          bigserial PRIMARY KEY,
	name        text    NOT NULL UNIQUE,
	query       text    NOT NULL,
	notify      text[]  NOT NULL DEFAULT '{}',
	digest      text    NOT NULL DEFAULT '',
	timezone    text    NOT NULL DEFAULT '',
	sources     text[]  NOT NULL DEFAULT '{}',
	follow_ups  text    NOT NULL DEFAULT '',
	min_sources integer NOT NULL DEFAULT 0,
	window_ms   bigint  NOT NULL DEFAULT 0,
	paused      boolean NOT NULL DEFAULT false,
	origin      text    NOT NULL,
	author      text    NOT NULL DEFAULT '',
	channel     text    NOT NULL DEFAULT '',
	created     bigint  NOT NULL
);

-- The outbox. story_id is not a foreign key: a sent alert outlives its story.
CREATE TABLE deliveries (
	id           bigserial PRIMARY KEY,
	target       text    NOT NULL,
	kind         text    NOT NULL DEFAULT '',
	story_id     text    NOT NULL DEFAULT '',
	story_ids    text[]  NOT NULL DEFAULT '{}',
	dedup_key    text    NOT NULL DEFAULT '',
	rules        text[]  NOT NULL DEFAULT '{}',
	terms        text[]  NOT NULL DEFAULT '{}',
	cluster      text    NOT NULL DEFAULT '',
	parent_id    bigint  NOT NULL DEFAULT 0,
	text         text    NOT NULL DEFAULT '',
	status       text    NOT NULL CHECK (status IN
		('pending', 'sent', 'failed', 'duplicate', 'folded', 'summarised')),
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt bigint,
	waiting      text    NOT NULL DEFAULT '',
	last_error   text    NOT NULL DEFAULT '',
	ref          text    NOT NULL DEFAULT '',
	created      bigint  NOT NULL,
	sent         bigint
);
-- A story goes to a target at most once; the rows that lost are kept as 'duplicate'.
CREATE UNIQUE INDEX deliveries_dedup ON deliveries (target, dedup_key)
	WHERE dedup_key <> '' AND status <> 'duplicate';
CREATE INDEX deliveries_pending ON deliveries (target, next_attempt) WHERE status = 'pending';
CREATE INDEX deliveries_cluster ON deliveries (target, cluster) WHERE cluster <> '';
CREATE INDEX deliveries_sent ON deliveries (target, sent) WHERE status = 'sent';
CREATE INDEX deliveries_story_ids ON deliveries USING gin (story_ids) WHERE status = 'pending';
CREATE INDEX deliveries_rules ON deliveries USING gin (rules);

CREATE TABLE lanes (
	target        text PRIMARY KEY,
	lease_owner   text   NOT NULL DEFAULT '',
	lease_token   bigint NOT NULL DEFAULT 0,
	lease_until   bigint NOT NULL DEFAULT 0,
	hold_until    bigint NOT NULL DEFAULT 0,
	hold_reason   text   NOT NULL DEFAULT '',
	last_summary  bigint NOT NULL DEFAULT 0,
	last_sent     bigint NOT NULL DEFAULT 0,
	last_error    text   NOT NULL DEFAULT '',
	last_error_at bigint NOT NULL DEFAULT 0
);

CREATE TABLE digests (
	rule text PRIMARY KEY,
	last bigint NOT NULL
);

CREATE TABLE fetch_log (
	id           bigserial PRIMARY KEY,
	source_id    bigint  NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
	at           bigint  NOT NULL,
	status       integer NOT NULL DEFAULT 0,
	not_modified boolean NOT NULL DEFAULT false,
	items        integer NOT NULL DEFAULT 0,
	fresh        integer NOT NULL DEFAULT 0,
	bytes        bigint  NOT NULL DEFAULT 0,
	duration_ms  bigint  NOT NULL DEFAULT 0,
	error        text    NOT NULL DEFAULT ''
);
CREATE INDEX fetch_log_source_at ON fetch_log (source_id, at);

CREATE TABLE fingerprints (
	rid      bigint PRIMARY KEY,
	story_id text   NOT NULL,
	cluster  text   NOT NULL,
	source   text   NOT NULL,
	fetched  bigint NOT NULL,
	sig      bytea  NOT NULL
);
CREATE INDEX fingerprints_fetched ON fingerprints (fetched);
CREATE TABLE fingerprint_keys (
	key bigint NOT NULL,
	rid bigint NOT NULL,
	PRIMARY KEY (key, rid)
);
CREATE INDEX fingerprint_keys_rid ON fingerprint_keys (rid);

CREATE TABLE sessions (
	hash    bytea PRIMARY KEY,
	expires bigint NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE counters (
	name  text PRIMARY KEY,
	value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('rules', 1);

CREATE FUNCTION rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE counters SET value = value + 1 WHERE name = 'rules';
	PERFORM pg_notify('wirewatch_rules', '');
	RETURN NULL;
END $$;
CREATE TRIGGER rules_changed AFTER INSERT OR UPDATE OR DELETE ON rules
	FOR EACH ROW EXECUTE FUNCTION rules_changed();

CREATE TABLE leases (
	name  text PRIMARY KEY,
	owner text   NOT NULL,
	token bigint NOT NULL,
	until bigint NOT NULL
);

CREATE TABLE remembered (
	key   text PRIMARY KEY,
	until bigint NOT NULL
);
CREATE INDEX remembered_until ON remembered (until);

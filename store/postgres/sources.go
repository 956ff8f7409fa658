package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
)

const sourceColumns = `s.id, s.name, s.url, s.interval_ms, s.schedule, s.backfill, s.origin, s.added_by,
	s.paused, s.created, s.etag, s.last_modified, s.last_fetch, s.last_success,
	s.last_status, s.last_error, s.failures, s.failing_since, s.next_fetch, s.primed,
	s.health_alerted`

// sourceSelect reads sources with their 7-day story counts; $1 is the start
// of the 7 days.
const sourceSelect = `
SELECT ` + sourceColumns + `, COALESCE(c.n, 0)
FROM sources s
LEFT JOIN (SELECT source_id, COUNT(*) AS n FROM stories WHERE fetched >= $1 GROUP BY source_id) c
       ON c.source_id = s.id`

// sourceBare reads a source without its 7-day count (0).
const sourceBare = `SELECT ` + sourceColumns + `, 0 FROM sources s`

func scanSource(row pgx.Row) (store.Source, error) {
	var s store.Source
	st := &s.State
	var interval int64
	var created, lastFetch, lastSuccess, failingSince, nextFetch *int64
	err := row.Scan(&s.ID, &s.Name, &s.URL, &interval, &s.Schedule, &s.Backfill, &s.Origin, &s.AddedBy,
		&s.Paused, &created, &st.ETag, &st.LastModified, &lastFetch, &lastSuccess, &st.LastStatus,
		&st.LastError, &st.Failures, &failingSince, &nextFetch, &st.Primed, &st.HealthAlerted, &s.Stories7d)
	s.Interval = time.Duration(interval) * time.Millisecond
	s.Created, st.LastFetch, st.LastSuccess = timeOf(created), timeOf(lastFetch), timeOf(lastSuccess)
	st.FailingSince, st.NextFetch = timeOf(failingSince), timeOf(nextFetch)
	return s, err
}

func (s *Store) weekAgo() int64 { return s.now().Add(-7 * 24 * time.Hour).UnixMilli() }

func collectSources(rows pgx.Rows, err error) ([]store.Source, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// Sources lists every source, by id, with Stories7d filled.
func (s *Store) Sources(ctx context.Context) ([]store.Source, error) {
	out, err := collectSources(s.pool.Query(ctx, sourceSelect+` ORDER BY s.id`, s.weekAgo()))
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	return out, nil
}

// Source returns one source by id, with Stories7d filled.
func (s *Store) Source(ctx context.Context, id int64) (store.Source, error) {
	src, err := scanSource(s.pool.QueryRow(ctx, sourceSelect+` WHERE s.id = $2`, s.weekAgo(), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Source{}, fmt.Errorf("source %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Source{}, fmt.Errorf("source %d: %w", id, err)
	}
	return src, nil
}

// sourceTaken reports a source other than id that has the name or the URL,
// as store.ErrExists.
func sourceTaken(ctx context.Context, tx pgx.Tx, id int64, name, url string) error {
	var n, u string
	err := tx.QueryRow(ctx, `SELECT name, url FROM sources WHERE id <> $1 AND (name = $2 OR url = $3) LIMIT 1`,
		id, name, url).Scan(&n, &u)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	case n == name:
		return fmt.Errorf("name %q: %w", name, store.ErrExists)
	default:
		return fmt.Errorf("url %q: %w (source %q)", url, store.ErrExists, n)
	}
}

// sourceURLLock serialises the checks of a source's name and URL with the
// write that follows: two replicas adding one feed at once get one source.
const sourceURLLock = 0x77697265_73726375 // "wiresrcu"

// AddSource stores a run-time source (origin chat or api; empty means api),
// due now. It returns store.ErrExists, wrapped, when the name or URL is taken.
func (s *Store) AddSource(ctx context.Context, src store.Source) (store.Source, error) {
	if src.Name == "" || src.URL == "" {
		return store.Source{}, fmt.Errorf("add source: name and url are required")
	}
	if src.Origin == "" {
		src.Origin = store.OriginAPI
	}
	src.Created = truncMillis(s.now())
	src.State = store.SourceState{}
	src.Stories7d = 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(sourceURLLock)); err != nil {
			return err
		}
		if err := sourceTaken(ctx, tx, 0, src.Name, src.URL); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
INSERT INTO sources (name, url, interval_ms, schedule, backfill, origin, added_by, paused, created, host)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			src.Name, src.URL, src.Interval.Milliseconds(), src.Schedule, src.Backfill, src.Origin, src.AddedBy,
			src.Paused, ms0(src.Created), store.SourceHost(src.URL)).Scan(&src.ID)
	})
	if isUnique(err) {
		err = fmt.Errorf("name %q: %w", src.Name, store.ErrExists)
	}
	if err != nil {
		return store.Source{}, fmt.Errorf("add source %q: %w", src.Name, err)
	}
	return src, nil
}

// sourceChanged is the SET clause of an update taking URL $2, interval $3,
// schedule $4, backfill $5 and host $6: a new URL drops the old one's
// validators and primed flag, and a new URL or schedule makes the source due
// now.
const sourceChanged = `
	etag = CASE WHEN url = $2 THEN etag ELSE '' END,
	last_modified = CASE WHEN url = $2 THEN last_modified ELSE '' END,
	primed = CASE WHEN url = $2 THEN primed ELSE false END,
	next_fetch = CASE WHEN url = $2 AND interval_ms = $3 AND schedule = $4 THEN next_fetch END,
	url = $2, interval_ms = $3, schedule = $4, backfill = $5, host = $6`

// UpdateSource changes a source's name, URL, interval, schedule, backfill and
// pause flag (see sourceChanged for what a new URL or schedule resets).
func (s *Store) UpdateSource(ctx context.Context, src store.Source) error {
	if src.Name == "" || src.URL == "" {
		return fmt.Errorf("update source %d: name and url are required", src.ID)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(sourceURLLock)); err != nil {
			return err
		}
		if err := sourceTaken(ctx, tx, src.ID, src.Name, src.URL); err != nil {
			return err
		}
		return execOne(ctx, tx, `UPDATE sources SET `+sourceChanged+`, name = $1, paused = $7 WHERE id = $8`,
			src.Name, src.URL, src.Interval.Milliseconds(), src.Schedule, src.Backfill, store.SourceHost(src.URL),
			src.Paused, src.ID)
	})
	if err != nil {
		return fmt.Errorf("update source %d: %w", src.ID, err)
	}
	return nil
}

// RemoveSource deletes a source; its stories stay until pruned.
func (s *Store) RemoveSource(ctx context.Context, id int64) error {
	if err := execOne(ctx, s.pool, `DELETE FROM sources WHERE id = $1`, id); err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	}
	return nil
}

// SaveSourceState records the outcome of a fetch; under a lease it also
// ends the lease, and records nothing (store.ErrLeaseLost) when another
// worker has claimed the source since.
func (s *Store) SaveSourceState(ctx context.Context, id int64, st store.SourceState, lease store.Lease) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
UPDATE sources SET etag = $1, last_modified = $2, last_fetch = $3, last_success = $4, last_status = $5,
	last_error = $6, failures = $7, failing_since = $8, next_fetch = $9, primed = $10, health_alerted = $11,
	lease_owner = CASE WHEN $12::bigint = 0 THEN lease_owner ELSE '' END,
	lease_until = CASE WHEN $12::bigint = 0 THEN lease_until ELSE 0 END
WHERE id = $14 AND ($12::bigint = 0 OR (lease_token = $12 AND lease_owner = $13))`,
			st.ETag, st.LastModified, ms(st.LastFetch), ms(st.LastSuccess), st.LastStatus, st.LastError,
			st.Failures, ms(st.FailingSince), ms(st.NextFetch), st.Primed, st.HealthAlerted, lease.Token,
			lease.Owner, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM sources WHERE id = $1`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return store.ErrLeaseLost
	})
	if err != nil {
		return fmt.Errorf("save source state %d: %w", id, err)
	}
	return nil
}

// sourceClaimLock serialises claims that keep to per-host caps, so that two
// replicas do not both count a host's leases before either takes one.
const sourceClaimLock = 0x77697265_636c6d73 // "wireclms"

// ClaimSources leases up to c.Limit enabled sources that are due and not
// leased, earliest due first, to c.Owner for c.TTL on the database's clock,
// keeping the leases held at once on one host to c.PerHost. Due rows are
// taken FOR UPDATE SKIP LOCKED.
func (s *Store) ClaimSources(ctx context.Context, c store.SourceClaim) ([]store.ClaimedSource, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	fetchedBefore := int64(1) << 62
	if !c.FetchedBefore.IsZero() {
		fetchedBefore = c.FetchedBefore.UnixMilli()
	}
	var out []store.ClaimedSource
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		busy := map[string]int{}
		if c.PerHost > 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(sourceClaimLock)); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT host, COUNT(*) FROM sources WHERE lease_until > (SELECT now_ms()) GROUP BY host`)
			if err != nil {
				return err
			}
			for rows.Next() {
				var h string
				var n int
				if err := rows.Scan(&h, &n); err != nil {
					rows.Close()
					return err
				}
				busy[h] = n
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `
SELECT id, host FROM sources
WHERE NOT paused AND COALESCE(next_fetch, 0) <= (SELECT now_ms()) AND lease_until <= (SELECT now_ms())
  AND COALESCE(last_fetch, 0) < $1
ORDER BY COALESCE(next_fetch, 0), id
LIMIT $2 FOR UPDATE SKIP LOCKED`, fetchedBefore, max(c.Limit*8, 64))
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() && len(ids) < c.Limit {
			var id int64
			var h string
			if err := rows.Scan(&id, &h); err != nil {
				rows.Close()
				return err
			}
			if c.PerHost > 0 && h != "" {
				if busy[h] >= c.PerHost {
					continue
				}
				busy[h]++
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			var lease store.Lease
			var until int64
			err := tx.QueryRow(ctx, `
UPDATE sources SET lease_owner = $1, lease_token = lease_token + 1, lease_until = now_ms() + $2
WHERE id = $3 RETURNING lease_token, lease_until`, c.Owner, c.TTL.Milliseconds(), id).Scan(&lease.Token, &until)
			if err != nil {
				return err
			}
			lease.Owner, lease.Until = c.Owner, time.UnixMilli(until).UTC()
			src, err := scanSource(tx.QueryRow(ctx, sourceBare+` WHERE s.id = $1`, id))
			if err != nil {
				return err
			}
			out = append(out, store.ClaimedSource{Source: src, Lease: lease})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim sources: %w", err)
	}
	return out, nil
}

// NextSourceDue returns when the earliest enabled source falls due or, when
// it is leased, its lease ends.
func (s *Store) NextSourceDue(ctx context.Context) (time.Time, bool, error) {
	var at *int64
	err := s.pool.QueryRow(ctx,
		`SELECT MIN(GREATEST(COALESCE(next_fetch, 0), lease_until)) FROM sources WHERE NOT paused`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next source due: %w", err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(*at).UTC(), true, nil
}

// FetchAll makes every enabled source due now.
func (s *Store) FetchAll(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sources SET next_fetch = NULL WHERE NOT paused`); err != nil {
		return fmt.Errorf("fetch all: %w", err)
	}
	return s.notify(ctx, topicSources)
}

// FetchSoon makes one source due now.
func (s *Store) FetchSoon(ctx context.Context, id int64) error {
	if err := execOne(ctx, s.pool, `UPDATE sources SET next_fetch = NULL WHERE id = $1`, id); err != nil {
		return fmt.Errorf("fetch source %d soon: %w", id, err)
	}
	return s.notify(ctx, topicSources)
}

// configSyncLock serialises the config syncs of replicas starting together.
const configSyncLock = 0x77697265_73796e63 // "wiresync"

// SyncConfigSources makes the config-file sources match sources, by name, as
// the SQLite store does, under an advisory lock so that replicas starting
// at once sync one after another. It returns every source.
func (s *Store) SyncConfigSources(ctx context.Context, sources []store.Source) ([]store.Source, error) {
	var out []store.Source
	now := ms0(s.now())
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(configSyncLock)); err != nil {
			return err
		}
		existing := map[string]string{}
		rows, err := tx.Query(ctx, `SELECT name, origin FROM sources`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name, origin string
			if err := rows.Scan(&name, &origin); err != nil {
				rows.Close()
				return err
			}
			existing[name] = origin
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, src := range sources {
			if src.Name == "" || src.URL == "" {
				return fmt.Errorf("source %q: name and url are required", src.Name)
			}
			if keep[src.Name] {
				return fmt.Errorf("source %q: named twice", src.Name)
			}
			keep[src.Name] = true
			origin, ok := existing[src.Name]
			switch {
			case !ok:
				_, err = tx.Exec(ctx, `
INSERT INTO sources (name, url, interval_ms, schedule, backfill, origin, added_by, paused, created, host)
VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9)`,
					src.Name, src.URL, src.Interval.Milliseconds(), src.Schedule, src.Backfill, store.OriginConfig,
					src.Paused, now, store.SourceHost(src.URL))
			case origin != store.OriginConfig:
				return fmt.Errorf("source %q: %w as a %s source", src.Name, store.ErrExists, origin)
			default:
				_, err = tx.Exec(ctx, `UPDATE sources SET `+sourceChanged+` WHERE name = $1
  AND (url <> $2 OR interval_ms <> $3 OR schedule <> $4 OR backfill <> $5 OR host <> $6)`,
					src.Name, src.URL, src.Interval.Milliseconds(), src.Schedule, src.Backfill, store.SourceHost(src.URL))
			}
			if err != nil {
				return fmt.Errorf("source %q: %w", src.Name, err)
			}
		}
		for name, origin := range existing {
			if origin == store.OriginConfig && !keep[name] {
				if _, err := tx.Exec(ctx, `DELETE FROM sources WHERE name = $1`, name); err != nil {
					return fmt.Errorf("source %q: %w", name, err)
				}
			}
		}
		out, err = collectSources(tx.Query(ctx, sourceSelect+` ORDER BY s.id`, s.weekAgo()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sync config sources: %w", err)
	}
	return out, nil
}

// LogFetch adds an entry to its source's fetch log and trims the log to the
// source's newest store.FetchLogKeep entries. A source that is not there is
// store.ErrNotFound.
func (s *Store) LogFetch(ctx context.Context, e store.FetchLogEntry) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
INSERT INTO fetch_log (source_id, at, status, not_modified, items, fresh, bytes, duration_ms, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.SourceID, e.At.UnixMilli(), e.Status, e.NotModified, e.Items, e.Fresh, e.Bytes,
			e.Duration.Milliseconds(), e.Error)
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
DELETE FROM fetch_log WHERE id IN (
	SELECT id FROM fetch_log WHERE source_id = $1 ORDER BY at DESC, id DESC OFFSET $2)`, e.SourceID, store.FetchLogKeep)
		return err
	})
	if err != nil {
		return fmt.Errorf("log fetch of source %d: %w", e.SourceID, err)
	}
	return nil
}

// FetchLog returns a source's newest fetch log entries, newest first, at most
// limit (0: 50).
func (s *Store) FetchLog(ctx context.Context, sourceID int64, limit int) ([]store.FetchLogEntry, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.pool.Query(ctx, `
SELECT id, source_id, at, status, not_modified, items, fresh, bytes, duration_ms, error
FROM fetch_log WHERE source_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("fetch log of source %d: %w", sourceID, err)
	}
	defer rows.Close()
	var out []store.FetchLogEntry
	for rows.Next() {
		var e store.FetchLogEntry
		var at, dur int64
		if err := rows.Scan(&e.ID, &e.SourceID, &at, &e.Status, &e.NotModified, &e.Items, &e.Fresh, &e.Bytes,
			&dur, &e.Error); err != nil {
			return nil, fmt.Errorf("fetch log of source %d: %w", sourceID, err)
		}
		e.At, e.Duration = time.UnixMilli(at).UTC(), time.Duration(dur)*time.Millisecond
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fetch log of source %d: %w", sourceID, err)
	}
	return out, nil
}

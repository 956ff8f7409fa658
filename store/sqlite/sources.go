package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// sourceColumns are the columns scanSource reads, less the 7-day count.
const sourceColumns = `s.id, s.name, s.url, s.interval_ms, s.schedule, s.backfill, s.origin, s.added_by,
       s.paused, s.created, s.etag, s.last_modified, s.last_fetch, s.last_success,
       s.last_status, s.last_error, s.failures, s.failing_since, s.next_fetch, s.primed,
       s.health_alerted`

// sourceSelect reads sources with their 7-day story counts in one grouped
// query. The count reads only the 7 days' range of the covering
// stories_fetched index; left to itself the planner prefers to walk all of
// stories_source_published for the GROUP BY. Parameter 1 is the start of the
// 7 days; a caller appends its WHERE and ORDER BY.
const sourceSelect = `
SELECT ` + sourceColumns + `, COALESCE(c.n, 0)
FROM sources s
LEFT JOIN (SELECT source_id, COUNT(*) AS n FROM stories INDEXED BY stories_fetched
           WHERE fetched >= ?1 GROUP BY source_id) c
       ON c.source_id = s.id`

// sourceBare reads a source without its 7-day count (0), as a fetch needs it.
const sourceBare = `SELECT ` + sourceColumns + `, 0 FROM sources s`

func scanSource(sc interface{ Scan(...any) error }) (store.Source, error) {
	var s store.Source
	st := &s.State
	err := sc.Scan(&s.ID, &s.Name, &s.URL, msDuration{&s.Interval}, &s.Schedule, &s.Backfill,
		&s.Origin, &s.AddedBy, &s.Paused, msTime{&s.Created}, &st.ETag, &st.LastModified,
		msTime{&st.LastFetch}, msTime{&st.LastSuccess}, &st.LastStatus, &st.LastError,
		&st.Failures, msTime{&st.FailingSince}, msTime{&st.NextFetch}, &st.Primed,
		&st.HealthAlerted, &s.Stories7d)
	return s, err
}

func (s *Store) weekAgo() int64 {
	return s.now().Add(-7 * 24 * time.Hour).UnixMilli()
}

func querySources(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, weekAgo int64) ([]store.Source, error) {
	rows, err := q.QueryContext(ctx, sourceSelect+` ORDER BY s.id`, weekAgo)
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
	out, err := querySources(ctx, s.r, s.weekAgo())
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	return out, nil
}

// Source returns one source by id, with Stories7d filled.
func (s *Store) Source(ctx context.Context, id int64) (store.Source, error) {
	src, err := scanSource(s.r.QueryRowContext(ctx, sourceSelect+` WHERE s.id = ?2`, s.weekAgo(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Source{}, fmt.Errorf("source %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Source{}, fmt.Errorf("source %d: %w", id, err)
	}
	return src, nil
}

// sourceTaken reports a source other than id that has the name or the URL, as store.ErrExists.
func sourceTaken(ctx context.Context, tx *sql.Tx, id int64, name, url string) error {
	var n string
	var u string
	err := tx.QueryRowContext(ctx,
		`SELECT name, url FROM sources WHERE id <> ? AND (name = ? OR url = ?) LIMIT 1`,
		id, name, url).Scan(&n, &u)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case n == name:
		return fmt.Errorf("name %q: %w", name, store.ErrExists)
	default:
		return fmt.Errorf("url %q: %w (source %q)", url, store.ErrExists, n)
	}
}

const sourceInsert = `
INSERT INTO sources (name, url, interval_ms, schedule, backfill, origin, added_by, paused, created, host)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// fillHosts sets the host of sources stored before hosts were kept.
func fillHosts(ctx context.Context, w *sql.DB) error {
	rows, err := w.QueryContext(ctx, `SELECT id, url FROM sources WHERE host = ''`)
	if err != nil {
		return err
	}
	hosts := map[int64]string{}
	for rows.Next() {
		var id int64
		var u string
		if err := rows.Scan(&id, &u); err != nil {
			rows.Close()
			return err
		}
		if h := store.SourceHost(u); h != "" {
			hosts[id] = h
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(hosts) == 0 {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for id, h := range hosts {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET host = ? WHERE id = ?`, h, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// sourceChanged is the SET clause of an update that takes URL ?2, interval ?3
// and schedule ?4: a new URL drops the old one's validators and primed flag
// (the new feed's backlog is held to its backfill), and a new URL or
// schedule makes the source due now.
const sourceChanged = `
	etag = CASE WHEN url = ?2 THEN etag ELSE '' END,
	last_modified = CASE WHEN url = ?2 THEN last_modified ELSE '' END,
	primed = CASE WHEN url = ?2 THEN primed ELSE 0 END,
	next_fetch = CASE WHEN url = ?2 AND interval_ms = ?3 AND schedule = ?4 THEN next_fetch END,
	url = ?2, interval_ms = ?3, schedule = ?4, backfill = ?5, host = ?6`

// AddSource stores a run-time source (origin chat or api; empty means api) with
// fresh fetch state. It returns store.ErrExists, wrapped, when the name or URL is taken.
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := sourceTaken(ctx, tx, 0, src.Name, src.URL); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, sourceInsert, src.Name, src.URL, src.Interval.Milliseconds(),
			src.Schedule, src.Backfill, src.Origin, src.AddedBy, src.Paused, millis(src.Created), store.SourceHost(src.URL))
		if err != nil {
			return err
		}
		src.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return store.Source{}, fmt.Errorf("add source %q: %w", src.Name, err)
	}
	return src, nil
}

// UpdateSource changes a source's name, URL, interval, schedule, backfill and
// pause flag. A new URL clears the ETag and Last-Modified of the old one and
// un-primes the source, so the new feed's backlog is held to its backfill; a
// new URL or schedule makes it due now.
func (s *Store) UpdateSource(ctx context.Context, src store.Source) error {
	if src.Name == "" || src.URL == "" {
		return fmt.Errorf("update source %d: name and url are required", src.ID)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := sourceTaken(ctx, tx, src.ID, src.Name, src.URL); err != nil {
			return err
		}
		return execOne(ctx, tx, `UPDATE sources SET `+sourceChanged+`, name = ?1, paused = ?7 WHERE id = ?8`,
			src.Name, src.URL, src.Interval.Milliseconds(), src.Schedule, src.Backfill, store.SourceHost(src.URL), src.Paused, src.ID)
	})
	if err != nil {
		return fmt.Errorf("update source %d: %w", src.ID, err)
	}
	return nil
}

// RemoveSource deletes a source; its stories stay until pruned.
func (s *Store) RemoveSource(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM sources WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	}
	return nil
}

// SaveSourceState records the outcome of a fetch. Under a lease it also ends
// the lease, and records nothing (store.ErrLeaseLost) when another worker has
// claimed the source since; a zero lease records without one.
func (s *Store) SaveSourceState(ctx context.Context, id int64, st store.SourceState, lease store.Lease) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
UPDATE sources SET etag = ?, last_modified = ?, last_fetch = ?, last_success = ?, last_status = ?,
	last_error = ?, failures = ?, failing_since = ?, next_fetch = ?, primed = ?, health_alerted = ?,
	lease_owner = CASE WHEN ?12 = 0 THEN lease_owner ELSE '' END,
	lease_until = CASE WHEN ?12 = 0 THEN lease_until ELSE 0 END
WHERE id = ?14 AND (?12 = 0 OR (lease_token = ?12 AND lease_owner = ?13))`,
			st.ETag, st.LastModified, millis(st.LastFetch), millis(st.LastSuccess), st.LastStatus,
			st.LastError, st.Failures, millis(st.FailingSince), millis(st.NextFetch), st.Primed,
			st.HealthAlerted, lease.Token, lease.Owner, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return sourceGone(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("save source state %d: %w", id, err)
	}
	return nil
}

// sourceGone explains why a fenced update of source id changed nothing:
// store.ErrNotFound when it is gone, else store.ErrLeaseLost.
func sourceGone(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM sources WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return store.ErrLeaseLost
}

// ClaimSources leases up to c.Limit enabled sources that are due and not
// leased, earliest due first, to c.Owner for c.TTL, keeping the leases held
// at once by every worker on one host to c.PerHost. The claim is one write
// transaction, so that two processes never lease one source at once.
func (s *Store) ClaimSources(ctx context.Context, c store.SourceClaim) ([]store.ClaimedSource, error) {
	if c.Limit <= 0 {
		return nil, nil
	}
	var out []store.ClaimedSource
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.now()
		nowMs := now.UnixMilli()
		busy := map[string]int{}
		if c.PerHost > 0 {
			rows, err := tx.QueryContext(ctx,
				`SELECT host, COUNT(*) FROM sources WHERE lease_until > ? GROUP BY host`, nowMs)
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
		fetchedBefore := int64(1) << 62
		if !c.FetchedBefore.IsZero() {
			fetchedBefore = c.FetchedBefore.UnixMilli()
		}
		rows, err := tx.QueryContext(ctx, `
SELECT id, host FROM sources
WHERE paused = 0 AND COALESCE(next_fetch, 0) <= ?1 AND lease_until <= ?1 AND COALESCE(last_fetch, 0) < ?2
ORDER BY COALESCE(next_fetch, 0), id`, nowMs, fetchedBefore)
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
		until := truncMillis(now.Add(c.TTL))
		for _, id := range ids {
			var token int64
			err := tx.QueryRowContext(ctx, `
UPDATE sources SET lease_owner = ?, lease_token = lease_token + 1, lease_until = ?
WHERE id = ? RETURNING lease_token`, c.Owner, until.UnixMilli(), id).Scan(&token)
			if err != nil {
				return err
			}
			src, err := scanSource(tx.QueryRowContext(ctx, sourceBare+` WHERE s.id = ?`, id))
			if err != nil {
				return err
			}
			out = append(out, store.ClaimedSource{Source: src, Lease: store.Lease{Owner: c.Owner, Token: token, Until: until}})
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
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx,
		`SELECT MIN(MAX(COALESCE(next_fetch, 0), lease_until)) FROM sources WHERE paused = 0`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next source due: %w", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(at.Int64).UTC(), true, nil
}

// FetchAll makes every enabled source due now.
func (s *Store) FetchAll(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sources SET next_fetch = NULL WHERE paused = 0`)
		return err
	})
	if err != nil {
		return fmt.Errorf("fetch all: %w", err)
	}
	return nil
}

// FetchSoon makes one source due now.
func (s *Store) FetchSoon(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `UPDATE sources SET next_fetch = NULL WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("fetch source %d soon: %w", id, err)
	}
	return nil
}

// SyncConfigSources makes the config-file sources match sources, by name:
// new names are inserted, changed URL/interval/schedule/backfill are updated
// (keeping fetch state, but a new URL drops the old URL's validators and
// primed flag, as in UpdateSource), and config sources that are gone are
// deleted. Chat and API sources are left alone; a config source whose name one
// of them already has is an error naming it. It returns every source.
func (s *Store) SyncConfigSources(ctx context.Context, sources []store.Source) ([]store.Source, error) {
	var out []store.Source
	now := millis(s.now())
	err := s.write(ctx, func(tx *sql.Tx) error {
		existing := map[string]string{} // name → origin
		rows, err := tx.QueryContext(ctx, `SELECT name, origin FROM sources`)
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

		plan, err := store.PlanSync("source", store.SourceItems(sources), existing)
		if err != nil {
			return err
		}
		added := map[string]bool{}
		for _, name := range plan.Add {
			added[name] = true
		}
		for _, src := range sources {
			if added[src.Name] {
				_, err = tx.ExecContext(ctx, sourceInsert+` ON CONFLICT (name) DO NOTHING`, src.Name, src.URL,
					src.Interval.Milliseconds(), src.Schedule, src.Backfill, store.OriginConfig, "", src.Paused,
					now, store.SourceHost(src.URL))
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE sources SET `+sourceChanged+` WHERE name = ?1`,
					src.Name, src.URL, src.Interval.Milliseconds(), src.Schedule, src.Backfill, store.SourceHost(src.URL))
			}
			if err != nil {
				return fmt.Errorf("source %q: %w", src.Name, err)
			}
		}
		for _, name := range plan.Drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE name = ?`, name); err != nil {
				return fmt.Errorf("source %q: %w", name, err)
			}
		}
		out, err = querySources(ctx, tx, s.weekAgo())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sync config sources: %w", err)
	}
	return out, nil
}

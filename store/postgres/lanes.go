package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
)

// ClaimLanes leases up to c.Lanes targets that have due pending rows and are
// neither leased nor held, least recently released first, taking their lane
// rows FOR UPDATE SKIP LOCKED, and returns each with its oldest c.Rows due
// rows. Leases run on the database's clock.
func (s *Store) ClaimLanes(ctx context.Context, c store.LaneClaim) ([]store.Lane, error) {
	if c.Lanes <= 0 {
		return nil, nil
	}
	if c.Rows <= 0 {
		c.Rows = 100
	}
	var out []store.Lane
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `
SELECT l.target, l.last_summary FROM lanes l
WHERE l.lease_until <= (SELECT now_ms()) AND l.hold_until <= (SELECT now_ms())
  AND EXISTS (SELECT 1 FROM deliveries d
              WHERE d.status = 'pending' AND d.target = l.target AND d.next_attempt <= (SELECT now_ms()))
ORDER BY l.lease_until, l.target LIMIT $1 FOR UPDATE SKIP LOCKED`, c.Lanes)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l store.Lane
			var last int64
			if err := rows.Scan(&l.Target, &last); err != nil {
				rows.Close()
				return err
			}
			l.LastSummary = timeOf(&last)
			out = append(out, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			l := &out[i]
			var until, now int64
			err := tx.QueryRow(ctx, `
UPDATE lanes SET lease_owner = $1, lease_token = lease_token + 1, lease_until = now_ms() + $2
WHERE target = $3 RETURNING lease_token, lease_until, now_ms()`, c.Owner, c.TTL.Milliseconds(), l.Target).
				Scan(&l.Lease.Token, &until, &now)
			if err != nil {
				return err
			}
			l.Lease.Owner, l.Lease.Until = c.Owner, time.UnixMilli(until).UTC()
			l.Due, err = queryDeliveries(ctx, tx, deliverySelect+`
WHERE d.status = 'pending' AND d.target = $1 AND d.next_attempt <= $2 ORDER BY d.id LIMIT $3`,
				l.Target, now, c.Rows)
			if err != nil {
				return err
			}
			err = tx.QueryRow(ctx, `
SELECT COUNT(*) FROM deliveries
WHERE status = 'sent' AND target = $1 AND sent >= $2 AND kind IN ('', $3, $4)`,
				l.Target, now-time.Hour.Milliseconds(), store.KindAlert, store.KindSurge).Scan(&l.SentLastHour)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim lanes: %w", err)
	}
	return out, nil
}

// lockLane locks a lane's row and returns store.ErrLeaseLost unless lease is
// its current one.
func lockLane(ctx context.Context, tx pgx.Tx, target string, lease store.Lease) error {
	var owner string
	var token int64
	err := tx.QueryRow(ctx, `SELECT lease_owner, lease_token FROM lanes WHERE target = $1 FOR UPDATE`, target).Scan(&owner, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrLeaseLost
	}
	if err != nil {
		return err
	}
	if owner != lease.Owner || token != lease.Token {
		return store.ErrLeaseLost
	}
	return nil
}

// Settle records an outcome of a leased lane's rows and renews the lease
// for ttl; it records nothing, and returns store.ErrLeaseLost, when another
// worker has claimed the lane since.
func (s *Store) Settle(ctx context.Context, target string, lease store.Lease, ttl time.Duration, o store.Outcome) (store.Lease, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockLane(ctx, tx, target, lease); err != nil {
			return err
		}
		attempt := 0
		if o.Attempt {
			attempt = 1
		}
		var err error
		switch o.Status {
		case store.StatusSent, store.StatusSummarised:
			_, err = tx.Exec(ctx, `
UPDATE deliveries SET status = $1, ref = $2, sent = $3, attempts = attempts + $4, waiting = ''
WHERE status = 'pending' AND target = $5 AND id = ANY($6)`, o.Status, o.Ref, ms(o.At), attempt, target, o.IDs)
			if err == nil {
				_, err = tx.Exec(ctx, `
UPDATE lanes SET last_sent = $1, last_error = '',
	last_summary = CASE WHEN $2 = 'summarised' THEN $1 ELSE last_summary END
WHERE target = $3`, ms0(o.At), o.Status, target)
			}
		case store.StatusFailed:
			_, err = tx.Exec(ctx, `
UPDATE deliveries SET status = 'failed', attempts = attempts + $1, last_error = $2, waiting = ''
WHERE status = 'pending' AND target = $3 AND id = ANY($4)`, attempt, o.Error, target, o.IDs)
		case store.StatusPending:
			_, err = tx.Exec(ctx, `
UPDATE deliveries SET next_attempt = $1, attempts = attempts + $2, waiting = $3,
	last_error = CASE WHEN $4 = '' THEN last_error ELSE $4 END
WHERE status = 'pending' AND target = $5 AND id = ANY($6)`, ms(o.Next), attempt, o.Waiting, o.Error, target, o.IDs)
		default:
			return fmt.Errorf("outcome status %q", o.Status)
		}
		if err != nil {
			return err
		}
		if o.Error != "" && o.Attempt {
			if _, err := tx.Exec(ctx, `UPDATE lanes SET last_error = $1, last_error_at = $2 WHERE target = $3`,
				o.Error, ms0(o.At), target); err != nil {
				return err
			}
		}
		var until int64
		if err := tx.QueryRow(ctx, `UPDATE lanes SET lease_until = now_ms() + $1 WHERE target = $2 RETURNING lease_until`,
			ttl.Milliseconds(), target).Scan(&until); err != nil {
			return err
		}
		lease.Until = time.UnixMilli(until).UTC()
		return nil
	})
	if err != nil {
		return lease, fmt.Errorf("settle %s %v: %w", target, o.IDs, err)
	}
	return lease, nil
}

// ReleaseLane ends a lease on a lane and holds the lane until hold.Until;
// store.ErrLeaseLost when another worker has claimed the lane since.
func (s *Store) ReleaseLane(ctx context.Context, target string, lease store.Lease, hold store.Hold) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockLane(ctx, tx, target, lease); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
UPDATE lanes SET lease_owner = '', lease_until = 0, hold_until = $1, hold_reason = $2 WHERE target = $3`,
			ms0(hold.Until), hold.Reason, target)
		return err
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", target, err)
	}
	if hold.Until.IsZero() {
		_ = s.notify(ctx, topicOutbox)
	}
	return nil
}

// NextDue returns when the earliest pending delivery falls due, no earlier
// than its lane's hold or lease ends.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at *int64
	err := s.pool.QueryRow(ctx, `
SELECT MIN(GREATEST(n.next, l.hold_until, l.lease_until)) FROM lanes l
JOIN LATERAL (SELECT MIN(next_attempt) AS next FROM deliveries d
              WHERE d.status = 'pending' AND d.target = l.target) n ON n.next IS NOT NULL`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(*at).UTC(), true, nil
}

// Targets returns the health of every target that has had deliveries.
func (s *Store) Targets(ctx context.Context) ([]store.TargetState, error) {
	rows, err := s.pool.Query(ctx, `
SELECT l.target, COALESCE(n.pending, 0), l.last_sent, l.last_error, l.last_error_at,
       l.hold_until, l.hold_reason, l.lease_owner, l.lease_token, l.lease_until
FROM lanes l
LEFT JOIN (SELECT target, COUNT(*) AS pending FROM deliveries WHERE status = 'pending' GROUP BY target) n
  ON n.target = l.target
ORDER BY l.target`)
	if err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	defer rows.Close()
	var out []store.TargetState
	for rows.Next() {
		var t store.TargetState
		var sent, errAt, hold, until int64
		if err := rows.Scan(&t.Target, &t.Pending, &sent, &t.LastError, &errAt, &hold, &t.Hold.Reason,
			&t.Lease.Owner, &t.Lease.Token, &until); err != nil {
			return nil, fmt.Errorf("targets: %w", err)
		}
		t.LastSent, t.LastErrorAt, t.Hold.Until, t.Lease.Until = timeOf(&sent), timeOf(&errAt), timeOf(&hold), timeOf(&until)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("targets: %w", err)
	}
	return out, nil
}

// LeaseOwners returns the owners of the leases on sources and lanes that
// have not ended.
func (s *Store) LeaseOwners(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT lease_owner FROM sources WHERE lease_until > (SELECT now_ms()) AND lease_owner <> ''
UNION
SELECT lease_owner FROM lanes WHERE lease_until > (SELECT now_ms()) AND lease_owner <> ''`)
	if err != nil {
		return nil, fmt.Errorf("lease owners: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("lease owners: %w", err)
	}
	return out, nil
}

// ExpireLeases ends every lease owner holds on sources and lanes, and
// returns how many it ended.
func (s *Store) ExpireLeases(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		for _, q := range []string{
			`UPDATE sources SET lease_until = 0 WHERE lease_owner = $1 AND lease_until > 0`,
			`UPDATE lanes SET lease_until = 0 WHERE lease_owner = $1 AND lease_until > 0`,
		} {
			tag, err := tx.Exec(ctx, q, owner)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire leases of %q: %w", owner, err)
	}
	return int(n), nil
}

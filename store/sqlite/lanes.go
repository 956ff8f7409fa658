package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// A lane is a target's queue. Its row in lanes says who holds it (owner,
// token, until), whether a receiver asked it to wait (hold), when its last
// flood summary went, and how its last sends fared. Claims, settlements and
// releases are write transactions, which SQLite runs one at a time across
// every process on the file, so a lane has one holder at a time and a stale
// holder's writes are refused by the token.

// ClaimLanes leases up to c.Lanes targets that have due pending rows and are
// neither leased nor held, least recently released first, and returns each
// with its oldest c.Rows due rows.
func (s *Store) ClaimLanes(ctx context.Context, c store.LaneClaim) ([]store.Lane, error) {
	if c.Lanes <= 0 {
		return nil, nil
	}
	if c.Rows <= 0 {
		c.Rows = 100
	}
	var out []store.Lane
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = nil
		now := s.now()
		nowMs := now.UnixMilli()
		rows, err := tx.QueryContext(ctx, `
SELECT l.target, l.last_summary FROM lanes l
WHERE l.lease_until <= ?1 AND l.hold_until <= ?1
  AND EXISTS (SELECT 1 FROM deliveries d
              WHERE d.status = 'pending' AND d.target = l.target AND d.next_attempt <= ?1)
ORDER BY l.lease_until, l.target LIMIT ?2`, nowMs, c.Lanes)
		if err != nil {
			return err
		}
		for rows.Next() {
			var l store.Lane
			if err := rows.Scan(&l.Target, zeroTime{&l.LastSummary}); err != nil {
				rows.Close()
				return err
			}
			out = append(out, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		until := truncMillis(now.Add(c.TTL))
		for i := range out {
			l := &out[i]
			l.Lease = store.Lease{Owner: c.Owner, Until: until}
			err := tx.QueryRowContext(ctx, `
UPDATE lanes SET lease_owner = ?, lease_token = lease_token + 1, lease_until = ?
WHERE target = ? RETURNING lease_token`, c.Owner, until.UnixMilli(), l.Target).Scan(&l.Lease.Token)
			if err != nil {
				return err
			}
			l.Due, err = queryDeliveries(ctx, tx, deliverySelect+`
WHERE d.status = 'pending' AND d.target = ? AND d.next_attempt <= ? ORDER BY d.id LIMIT ?`,
				l.Target, nowMs, c.Rows)
			if err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, `
SELECT COUNT(*) FROM deliveries
WHERE status = 'sent' AND target = ? AND sent >= ? AND kind IN ('', ?, ?)`,
				l.Target, now.Add(-time.Hour).UnixMilli(), store.KindAlert, store.KindSurge).Scan(&l.SentLastHour)
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

// checkLease returns store.ErrLeaseLost unless lease is the lane's current
// one. An expired lease that nobody has taken over still counts: its holder
// is the only one who could have sent.
func checkLease(ctx context.Context, tx *sql.Tx, target string, lease store.Lease) error {
	var owner string
	var token int64
	err := tx.QueryRowContext(ctx, `SELECT lease_owner, lease_token FROM lanes WHERE target = ?`, target).Scan(&owner, &token)
	if errors.Is(err, sql.ErrNoRows) {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, target, lease); err != nil {
			return err
		}
		attempt := 0
		if o.Attempt {
			attempt = 1
		}
		ids := jsonIDs(o.IDs)
		var err error
		switch o.Status {
		case store.StatusSent, store.StatusSummarised:
			_, err = tx.ExecContext(ctx, `
UPDATE deliveries SET status = ?, ref = ?, sent = ?, attempts = attempts + ?, waiting = ''
WHERE status = 'pending' AND target = ? AND id IN (SELECT value FROM json_each(?))`,
				o.Status, o.Ref, millis(o.At), attempt, target, ids)
			if err == nil {
				_, err = tx.ExecContext(ctx, `
UPDATE lanes SET last_sent = ?1, last_error = '',
	last_summary = CASE WHEN ?2 = 'summarised' THEN ?1 ELSE last_summary END
WHERE target = ?3`, ms0(o.At), o.Status, target)
			}
		case store.StatusFailed:
			_, err = tx.ExecContext(ctx, `
UPDATE deliveries SET status = 'failed', attempts = attempts + ?, last_error = ?, waiting = ''
WHERE status = 'pending' AND target = ? AND id IN (SELECT value FROM json_each(?))`,
				attempt, o.Error, target, ids)
		case store.StatusPending:
			_, err = tx.ExecContext(ctx, `
UPDATE deliveries SET next_attempt = ?, attempts = attempts + ?, waiting = ?,
	last_error = CASE WHEN ? = '' THEN last_error ELSE ? END
WHERE status = 'pending' AND target = ? AND id IN (SELECT value FROM json_each(?))`,
				millis(o.Next), attempt, o.Waiting, o.Error, o.Error, target, ids)
		default:
			return fmt.Errorf("outcome status %q", o.Status)
		}
		if err != nil {
			return err
		}
		if o.Error != "" && o.Attempt {
			if _, err := tx.ExecContext(ctx, `UPDATE lanes SET last_error = ?, last_error_at = ? WHERE target = ?`,
				o.Error, ms0(o.At), target); err != nil {
				return err
			}
		}
		lease.Until = truncMillis(s.now().Add(ttl))
		_, err = tx.ExecContext(ctx, `UPDATE lanes SET lease_until = ? WHERE target = ?`, lease.Until.UnixMilli(), target)
		return err
	})
	if err != nil {
		return lease, fmt.Errorf("settle %s %v: %w", target, o.IDs, err)
	}
	return lease, nil
}

// ReleaseLane ends a lease on a lane and holds the lane until hold.Until;
// store.ErrLeaseLost when another worker has claimed the lane since.
func (s *Store) ReleaseLane(ctx context.Context, target string, lease store.Lease, hold store.Hold) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, target, lease); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
UPDATE lanes SET lease_owner = '', lease_until = 0, hold_until = ?, hold_reason = ? WHERE target = ?`,
			ms0(hold.Until), hold.Reason, target)
		return err
	})
	if err != nil {
		return fmt.Errorf("release %s: %w", target, err)
	}
	return nil
}

// NextDue returns when the earliest pending delivery falls due, no earlier
// than its lane's hold or lease ends.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, `
SELECT MIN(MAX(n.next, l.hold_until, l.lease_until)) FROM lanes l
JOIN (SELECT target, MIN(next_attempt) AS next FROM deliveries WHERE status = 'pending' GROUP BY target) n
  ON n.target = l.target`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(at.Int64).UTC(), true, nil
}

// Targets returns the health of every target that has had deliveries, by
// target.
func (s *Store) Targets(ctx context.Context) ([]store.TargetState, error) {
	rows, err := s.r.QueryContext(ctx, `
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
		err := rows.Scan(&t.Target, &t.Pending, zeroTime{&t.LastSent}, &t.LastError, zeroTime{&t.LastErrorAt},
			zeroTime{&t.Hold.Until}, &t.Hold.Reason, &t.Lease.Owner, &t.Lease.Token, zeroTime{&t.Lease.Until})
		if err != nil {
			return nil, fmt.Errorf("targets: %w", err)
		}
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
	now := s.now().UnixMilli()
	rows, err := s.r.QueryContext(ctx, `
SELECT lease_owner FROM sources WHERE lease_until > ?1 AND lease_owner <> ''
UNION
SELECT lease_owner FROM lanes WHERE lease_until > ?1 AND lease_owner <> ''`, now)
	if err != nil {
		return nil, fmt.Errorf("lease owners: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("lease owners: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lease owners: %w", err)
	}
	return out, nil
}

// ExpireLeases ends every lease owner holds on sources and lanes, and
// returns how many it ended.
func (s *Store) ExpireLeases(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, q := range []string{
			`UPDATE sources SET lease_until = 0 WHERE lease_owner = ? AND lease_until > 0`,
			`UPDATE lanes SET lease_until = 0 WHERE lease_owner = ? AND lease_until > 0`,
		} {
			res, err := tx.ExecContext(ctx, q, owner)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire leases of %q: %w", owner, err)
	}
	return int(n), nil
}

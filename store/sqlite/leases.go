package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// AcquireLease takes or renews the named lease for owner until ttl from now.
// A lease that changes hands (or is taken for the first time) gets the next
// fencing token; store.ErrLeaseLost while another owner holds it.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, error) {
	var out store.Lease
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.now()
		until := truncMillis(now.Add(ttl))
		var cur store.Lease
		err := tx.QueryRowContext(ctx, `SELECT owner, token, until FROM leases WHERE name = ?`, name).
			Scan(&cur.Owner, &cur.Token, msTime{&cur.Until})
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case cur.Owner != owner && cur.Until.After(now):
			return store.ErrLeaseLost
		}
		token := cur.Token
		if cur.Owner != owner || !cur.Until.After(now) {
			token++
		}
		out = store.Lease{Owner: owner, Token: token, Until: until}
		_, err = tx.ExecContext(ctx, `
INSERT INTO leases (name, owner, token, until) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (name) DO UPDATE SET owner = ?2, token = ?3, until = ?4`, name, owner, token, until.UnixMilli())
		return err
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("lease %q: %w", name, err)
	}
	return out, nil
}

// ReleaseLease gives the named lease up if lease is still its current one.
func (s *Store) ReleaseLease(ctx context.Context, name string, lease store.Lease) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE leases SET until = 0 WHERE name = ? AND owner = ? AND token = ?`,
			name, lease.Owner, lease.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %q: %w", name, err)
	}
	return nil
}

// Remember records key until a time and reports whether it was new (or
// known only past its time), forgetting the keys whose time has passed.
func (s *Store) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	fresh := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `DELETE FROM remembered WHERE until <= ?`, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO remembered (key, until) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			key, until.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remember: %w", err)
	}
	return fresh, nil
}

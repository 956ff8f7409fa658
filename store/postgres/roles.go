package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
)

// AddSession stores a session by the hash of its secret, dropping ended
// sessions and, beyond max (0: no bound), the ones that end first.
func (s *Store) AddSession(ctx context.Context, hash []byte, expires time.Time, max int) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires <= $1`, s.now().UnixMilli()); err != nil {
			return err
		}
		if max > 0 {
			if _, err := tx.Exec(ctx, `
DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions ORDER BY expires DESC OFFSET $1)`, max-1); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (hash, expires) VALUES ($1, $2)
ON CONFLICT (hash) DO UPDATE SET expires = excluded.expires`, hash, expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	return nil
}

// SessionExpires returns when a session ends; store.ErrNotFound when there is
// no such session or it has ended.
func (s *Store) SessionExpires(ctx context.Context, hash []byte) (time.Time, error) {
	var exp int64
	err := s.pool.QueryRow(ctx, `SELECT expires FROM sessions WHERE hash = $1 AND expires > $2`,
		hash, s.now().UnixMilli()).Scan(&exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("session: %w", err)
	}
	return timeOf(&exp), nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// AcquireLease takes or renews the named lease for owner until ttl from now
// on the database's clock; a change of hands moves the fencing token.
// store.ErrLeaseLost while another owner holds it.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, error) {
	var out store.Lease
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO leases (name, owner, token, until) VALUES ($1, '', 0, 0)
ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return err
		}
		var cur store.Lease
		var until, now int64
		err := tx.QueryRow(ctx, `SELECT owner, token, until, now_ms() FROM leases WHERE name = $1 FOR UPDATE`, name).
			Scan(&cur.Owner, &cur.Token, &until, &now)
		if err != nil {
			return err
		}
		if cur.Owner != owner && until > now {
			return store.ErrLeaseLost
		}
		token := cur.Token
		if cur.Owner != owner || until <= now {
			token++
		}
		newUntil := now + ttl.Milliseconds()
		if _, err := tx.Exec(ctx, `UPDATE leases SET owner = $2, token = $3, until = $4 WHERE name = $1`,
			name, owner, token, newUntil); err != nil {
			return err
		}
		out = store.Lease{Owner: owner, Token: token, Until: time.UnixMilli(newUntil).UTC()}
		return nil
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("lease %q: %w", name, err)
	}
	return out, nil
}

// ReleaseLease gives the named lease up if lease is still its current one.
func (s *Store) ReleaseLease(ctx context.Context, name string, lease store.Lease) error {
	if _, err := s.pool.Exec(ctx, `UPDATE leases SET until = 0 WHERE name = $1 AND owner = $2 AND token = $3`,
		name, lease.Owner, lease.Token); err != nil {
		return fmt.Errorf("release lease %q: %w", name, err)
	}
	return nil
}

// Remember records key until a time and reports whether it was new (or
// known only past its time), forgetting keys whose time has passed.
func (s *Store) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	fresh := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM remembered WHERE until <= $1`, s.now().UnixMilli()); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO remembered (key, until) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
			key, until.UnixMilli())
		fresh = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remember: %w", err)
	}
	return fresh, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// AddSession stores a session by the hash of its secret, dropping the
// sessions that have ended and, beyond max (0: no bound), the ones that end
// first.
func (s *Store) AddSession(ctx context.Context, hash []byte, expires time.Time, max int) error {
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, now.UnixMilli()); err != nil {
			return err
		}
		if max > 0 {
			if _, err := tx.ExecContext(ctx, `
DELETE FROM sessions WHERE hash IN (
	SELECT hash FROM sessions ORDER BY expires DESC LIMIT -1 OFFSET ?)`, max-1); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sessions (hash, expires) VALUES (?, ?)`,
			hash, expires.UnixMilli())
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
	var exp time.Time
	err := s.r.QueryRowContext(ctx, `SELECT expires FROM sessions WHERE hash = ? AND expires > ?`,
		hash, s.now().UnixMilli()).Scan(msTime{&exp})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("session: %w", err)
	}
	return exp, nil
}

// DeleteSession ends a session (none there is not an error).
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Conn lends a test one of the store's own sessions.
func Conn(ctx context.Context, s *Store) (*pgxpool.Conn, error) { return s.pool.Acquire(ctx) }

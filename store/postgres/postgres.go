// Package postgres is the store.Store for deployments on PostgreSQL, where
// any number of wirewatch replicas share one database. It keeps the same
// contract as the embedded SQLite store (store/storetest holds both to it);
// what SQLite gets from having one writer at a time, this store gets from
// row locks (claims take due work FOR UPDATE SKIP LOCKED), fencing tokens on
// the database's clock, transaction-scoped advisory locks where two replicas
// must not decide at once (the cluster of a story, the config sync), and
// unique indexes with ON CONFLICT for dedup. LISTEN/NOTIFY wakes the
// workers of every replica when work arrives; they poll as well.
//
// The driver is pgx v5 with its pool.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wirewatch/wirewatch/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store in one PostgreSQL database.
type Store struct {
	pool      *pgxpool.Pool
	normalize func(string) string
	now       func() time.Time

	closeOnce sync.Once
}

type options struct {
	normalize func(string) string
	maxConns  int32
	stuck     time.Duration
}

// DefaultStuckTransaction is how long the server lets a session of this
// store sit idle inside a transaction before it ends the session. Every
// transaction here runs its statements back to back, so one left idle
// belongs to a replica that froze (SIGSTOP, a paused VM) while holding row
// and advisory locks the other replicas wait for.
const DefaultStuckTransaction = 30 * time.Second

// Option changes how Open sets up a Store.
type Option func(*options)

// WithNormalizer sets how story text is turned into the words of the full-text
// index (and queries' words are expected in): rules.Normalize, so that the
// index sees the words the rule language sees. The default lower-cases only.
func WithNormalizer(f func(string) string) Option {
	return func(o *options) { o.normalize = f }
}

// WithMaxConns sets the size of the connection pool (default: pgx's, the
// larger of 4 and the number of CPUs).
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = int32(n) }
}

// WithStuckTransaction sets idle_in_transaction_session_timeout for the
// store's sessions (default DefaultStuckTransaction; a URL that sets it
// wins).
func WithStuckTransaction(d time.Duration) Option {
	return func(o *options) { o.stuck = d }
}

// Open connects to the database at url (postgres://…), applies the embedded
// migrations under a transaction-scoped advisory lock (so replicas starting
// together apply them once), and refuses a database whose schema is newer
// than this wirewatch knows. The URL's password never appears in an error.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{normalize: strings.ToLower, stuck: DefaultStuckTransaction}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: the storage URL does not parse (%s)", redactedParseError(err))
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set && o.stuck > 0 {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(o.stuck.Milliseconds(), 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where(cfg), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where(cfg), err)
	}
	s := &Store{pool: pool, normalize: o.normalize, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where(cfg), err)
	}
	return s, nil
}

// where names the database for an error: host, port and database, never
// the user's password.
func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.Database)
}

// redactedParseError is pgx's parse error without the connection string it
// may quote.
func redactedParseError(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		return pe.Unwrap().Error()
	}
	return "invalid URL"
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close closes the pool. Closing twice is safe.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the advisory lock key under which migrations run.
const migrateLock = 0x77697265_6d696772 // "wiremigr"

// migrate applies the migrations the database lacks, all in one
// transaction (PostgreSQL's DDL is transactional) that holds an advisory
// lock: replicas that start together wait for the first, then find the
// schema current.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := store.LoadMigrations(migrationFiles, "migrations/*.sql")
	if err == nil && len(ms) == 0 {
		err = errors.New("no migrations embedded")
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	newest := ms[len(ms)-1].Version
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS wirewatch_schema (version integer NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM wirewatch_schema`).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO wirewatch_schema (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		case v > newest:
			return fmt.Errorf("migrate: database schema version %d is newer than this wirewatch knows (%d); run the newer wirewatch, or a new database", v, newest)
		}
		for _, m := range ms {
			if m.Version <= v {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate: %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE wirewatch_schema SET version = $1`, m.Version); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// execOne runs a statement that must change one row; none is
// store.ErrNotFound.
func execOne(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, sql string, args ...any) error {
	tag, err := q.Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isDeadlock reports whether err is the server breaking a deadlock between
// two transactions (say, two replicas inserting the same stories in another
// order): the one it aborted may simply run again.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// isForeignKey reports whether err is a foreign-key violation.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// ms is how a time is stored: UTC unix milliseconds, NULL for the zero time.
func ms(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

// ms0 is how a time is stored in a NOT NULL column: 0 for the zero time.
func ms0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// timeOf reads a column written by ms or ms0.
func timeOf(v *int64) time.Time {
	if v == nil || *v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(*v).UTC()
}

// truncMillis is t as it reads back: UTC, to the millisecond.
func truncMillis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// list is a list as stored: never NULL.
func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// nilIfEmpty reads a stored list back as nil when empty.
func nilIfEmpty(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

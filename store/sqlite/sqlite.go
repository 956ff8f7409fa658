// Package sqlite is the embedded default store.Store: one SQLite file, kept in
// WAL mode, written through a single connection and read through a small pool.
// It sits on the road between the sources and rules, whose stories and matches
// it takes in one transaction per fetch, and the dispatcher, which reads due
// deliveries from its outbox and records what became of them.
//
// The driver is modernc.org/sqlite (pure Go), so the binary stays static.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wirewatch/wirewatch/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store kept in one SQLite database file.
type Store struct {
	w   *sql.DB // the single writer; every write transaction is BEGIN IMMEDIATE
	r   *sql.DB // the read pool
	now func() time.Time

	// Ingests queue here while one caller writes them (see Ingest).
	ingestMu    sync.Mutex
	ingestQueue []*ingestJob
	ingesting   bool

	// health is the last integrity check, for Ping.
	health *health

	closeOnce sync.Once
	closeErr  error
}

type options struct {
	busyTimeout   time.Duration
	readConns     int
	now           func() time.Time
	checkEvery    time.Duration
	checkEverySet bool
}

// Option changes how Open sets up a Store.
type Option func(*options)

// WithBusyTimeout sets how long a connection waits for a lock held by another
// process before it fails with SQLITE_BUSY (default 5s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) { o.busyTimeout = d }
}

// WithReadConns sets the size of the read pool (default: the number of CPUs, at least 2).
func WithReadConns(n int) Option {
	return func(o *options) { o.readConns = n }
}

// WithClock sets the clock the store reads for creation times, the time new
// deliveries fall due and the 7-day story counts (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open opens (creating if needed) the SQLite database at path and applies
// migrations. path must name a file: the writer and the readers are separate
// connections, so an in-memory database would not be shared between them.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: 5 * time.Second, readConns: max(runtime.NumCPU(), 2), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("open sqlite %q: want the path of a database file", path)
	}
	if o.readConns < 1 {
		o.readConns = 1
	}
	if !o.checkEverySet {
		o.checkEvery = DefaultCheckEvery
	}
	if err := checkExisting(path); err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}

	w, err := sql.Open("sqlite", dsn(path, o.busyTimeout, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// A damaged file is refused before anything is written to it.
	if err := quickCheck(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if err := fillHosts(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}

	r, err := sql.Open("sqlite", dsn(path, o.busyTimeout, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	h := &health{every: o.checkEvery, dsn: dsn(path, o.busyTimeout, true), at: time.Now()}
	return &Store{w: w, r: r, now: o.now, health: h}, nil
}

// dsn builds a modernc.org/sqlite data source name whose pragmas run on every
// new connection of the pool. Readers are query_only, so a write through the
// read pool fails instead of competing with the writer.
func dsn(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Ping reports whether both the writer and the read pool answer, the file
// still reads as a database, and its integrity check (run again at most
// every WithCheckEvery) passed.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	var v int
	if err := s.r.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("ping: %w", classify(err))
	}
	if err := s.health.check(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close closes the read pool and the writer, after letting SQLite refresh the
// planner statistics that need it (PRAGMA optimize), as it advises before closing.
// Closing twice is safe.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		_, err := s.w.Exec("PRAGMA optimize")
		s.closeErr = errors.Join(err, s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the one writer
// connection) and commits it when fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// read runs fn in a read transaction, so that its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// execOne runs a statement that must change one row; no row is store.ErrNotFound.
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// millis is how a time is stored: UTC unix milliseconds, NULL for the zero time.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// ms0 is how a time is stored in a NOT NULL column: UTC unix milliseconds,
// 0 for the zero time.
func ms0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// zeroTime scans a column written by ms0.
type zeroTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (z zeroTime) Scan(src any) error {
	if v, ok := src.(int64); ok && v == 0 {
		*z.t = time.Time{}
		return nil
	}
	return msTime(z).Scan(src)
}

// msTime scans a column written by millis.
type msTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (m msTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*m.t = time.Time{}
	case int64:
		*m.t = time.UnixMilli(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

// msDuration scans a duration stored as whole milliseconds.
type msDuration struct{ d *time.Duration }

// Scan implements sql.Scanner.
func (m msDuration) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("duration column holds %T", src)
	}
	*m.d = time.Duration(v) * time.Millisecond
	return nil
}

// truncMillis is t as it reads back from the store: UTC, to the millisecond.
func truncMillis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// jsonList is how a list is stored: a JSON array of strings, "[]" when empty.
func jsonList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	// Marshalling a []string cannot fail.
	b, _ := json.Marshal(v)
	return string(b)
}

// list scans a column written by jsonList; an empty list reads as nil.
type list struct{ p *[]string }

// Scan implements sql.Scanner.
func (l list) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l.p = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("list column holds %T", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("list column: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*l.p = out
	return nil
}

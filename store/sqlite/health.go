package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrDamaged marks a database file that is not a sound SQLite database: it
// is empty although it exists, or its integrity check fails. Open refuses it
// instead of starting a new, empty store over it (which, with backfill, would
// alert history again).
var ErrDamaged = errors.New("database file damaged")

// DefaultCheckEvery is how often Ping runs the integrity check again; in
// between it reports the last result.
const DefaultCheckEvery = 5 * time.Minute

// WithCheckEvery sets how often Ping runs PRAGMA quick_check again
// (DefaultCheckEvery; 0: on every Ping).
func WithCheckEvery(d time.Duration) Option {
	return func(o *options) { o.checkEvery = d; o.checkEverySet = true }
}

// checkExisting refuses a database file that exists but is empty: SQLite
// would take it for a new database.
func checkExisting(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not a database file", path)
	case fi.Size() == 0:
		return fmt.Errorf("%w: the file exists but is empty (0 bytes), so it was truncated or is not a wirewatch database; "+
			"restore it from a backup, or move it away to start a new, empty store", ErrDamaged)
	}
	return nil
}

// quickCheck runs PRAGMA quick_check and returns ErrDamaged with what it
// found when the database is not sound.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return classify(err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: the integrity check (PRAGMA quick_check) found: %s; restore the file from a backup",
			ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// classify turns SQLite's "not a database" and "malformed" errors into
// ErrDamaged with a clear message; others are returned as they are.
func classify(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "file is not a database") || strings.Contains(msg, "malformed") ||
		strings.Contains(msg, "SQLITE_NOTADB") || strings.Contains(msg, "SQLITE_CORRUPT") {
		return fmt.Errorf("%w: %v; restore the file from a backup", ErrDamaged, err)
	}
	return err
}

// health remembers the last integrity check, for Ping. The check runs on a
// connection of its own, opened for it: the pool's connections keep pages
// in their caches and would not see damage done to the file since.
type health struct {
	every time.Duration
	dsn   string

	mu   sync.Mutex
	at   time.Time // when the last check ran (monotonic clock)
	last error
}

// check returns the last result, running the check again when it is older
// than every. A check cut off by ctx (a health probe's deadline) keeps the
// last result.
func (h *health) check(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < h.every {
		return h.last
	}
	db, err := sql.Open("sqlite", h.dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	err = quickCheck(ctx, db)
	db.Close()
	if err != nil && ctx.Err() != nil {
		return h.last
	}
	h.at, h.last = time.Now(), err
	return err
}

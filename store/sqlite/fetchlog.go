package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wirewatch/wirewatch/store"
)

// fetchLogTrim deletes a source's entries past its newest ?2: normally the one
// that the insert before it pushed out, found by walking ?2 + 1 entries of the
// fetch_log_source_at index.
const fetchLogTrim = `
DELETE FROM fetch_log WHERE id IN (
	SELECT id FROM fetch_log WHERE source_id = ?1 ORDER BY at DESC, id DESC LIMIT -1 OFFSET ?2)`

// LogFetch adds an entry to its source's fetch log and trims the log to the
// source's newest store.FetchLogKeep entries, in one transaction. A source
// that is not there is store.ErrNotFound.
func (s *Store) LogFetch(ctx context.Context, e store.FetchLogEntry) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO fetch_log (source_id, at, status, not_modified, items, fresh, bytes, duration_ms, error)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.SourceID, e.At.UnixMilli(), e.Status, e.NotModified, e.Items, e.Fresh, e.Bytes,
			e.Duration.Milliseconds(), e.Error)
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, fetchLogTrim, e.SourceID, store.FetchLogKeep)
		return err
	})
	if err != nil {
		return fmt.Errorf("log fetch of source %d: %w", e.SourceID, err)
	}
	return nil
}

// FetchLog returns a source's newest fetch log entries, newest first, at most
// limit (0: 50); none for a source that is not there.
func (s *Store) FetchLog(ctx context.Context, sourceID int64, limit int) ([]store.FetchLogEntry, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `
SELECT id, source_id, at, status, not_modified, items, fresh, bytes, duration_ms, error
FROM fetch_log WHERE source_id = ? ORDER BY at DESC, id DESC LIMIT ?`, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("fetch log of source %d: %w", sourceID, err)
	}
	defer rows.Close()
	var out []store.FetchLogEntry
	for rows.Next() {
		var e store.FetchLogEntry
		err := rows.Scan(&e.ID, &e.SourceID, msTime{&e.At}, &e.Status, &e.NotModified, &e.Items,
			&e.Fresh, &e.Bytes, msDuration{&e.Duration}, &e.Error)
		if err != nil {
			return nil, fmt.Errorf("fetch log of source %d: %w", sourceID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fetch log of source %d: %w", sourceID, err)
	}
	return out, nil
}

// isForeignKey reports whether err is a FOREIGN KEY constraint failure.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

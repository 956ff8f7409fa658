package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
)

func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := openTemp(t, filepath.Join(t.TempDir(), "wirewatch.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestConformanceDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "wirewatch.db")
		return func() store.Store { return openTemp(t, path) }
	})
}

// TestConformanceShared holds two handles on one file, as two processes on
// one machine hold them, to the same contract.
func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "wirewatch.db")
		return func() store.Store { return openTemp(t, path) }
	})
}

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTemp(t, path)
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, s.w); v != len(ms) {
		t.Errorf("user_version = %d, want %d", v, len(ms))
	}
	if _, err := s.AddRule(t.Context(), store.Rule{Name: "keep", Query: "x"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openTemp(t, path)
	defer s.Close()
	rules, err := s.Rules(t.Context())
	if err != nil || len(rules) != 1 || rules[0].Name != "keep" {
		t.Errorf("after reopen: rules = %+v, %v", rules, err)
	}
	if v := userVersion(t, s.w); v != len(ms) {
		t.Errorf("user_version after reopen = %d, want %d", v, len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTemp(t, path)
	if _, err := s.w.ExecContext(t.Context(), "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer database: error = %v, want one saying it is newer", err)
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory", "x.db?_pragma=foo"} {
		if s, err := Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", p)
		}
	}
}

// TestPragmas checks the settings every connection of both pools gets.
func TestPragmas(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "w.db"))
	defer s.Close()
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		db   *sql.DB
		want map[string]string
	}{
		{"writer", s.w, map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000", "query_only": "0"}},
		{"reader", s.r, map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000", "query_only": "1"}},
	} {
		// Hold two reader connections at once so that a second one is opened too.
		conns := []*sql.Conn{}
		for range 2 {
			c, err := tc.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if tc.db == s.w {
				break
			}
		}
		for i, c := range conns {
			for pragma, want := range tc.want {
				var got string
				if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s conn %d: %s = %s, want %s", tc.name, i, pragma, got, want)
				}
			}
			c.Close()
		}
	}
	if _, err := s.r.ExecContext(ctx, "DELETE FROM rules"); err == nil {
		t.Error("a write through the read pool succeeded")
	}
}

func TestWriteIsImmediate(t *testing.T) {
	// A second process's writer must wait for ours instead of failing part-way
	// through its transaction: BEGIN IMMEDIATE takes the write lock up front.
	path := filepath.Join(t.TempDir(), "w.db")
	s := openTemp(t, path)
	defer s.Close()
	other, err := Open(t.Context(), path, WithBusyTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := s.w.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// Our transaction has written nothing yet, but holds the write lock.
	if _, err := other.AddRule(t.Context(), store.Rule{Query: "x"}); err == nil || !strings.Contains(strings.ToLower(err.Error()), "locked") && !strings.Contains(strings.ToLower(err.Error()), "busy") {
		t.Errorf("write while another writer holds an immediate transaction: error = %v, want SQLITE_BUSY", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	ok := fstest.MapFS{
		"migrations/0002_more.sql": {Data: []byte("SELECT 2;")},
		"migrations/0001_init.sql": {Data: []byte("SELECT 1;")},
	}
	ms, err := loadMigrations(ok)
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "0002_more.sql" {
		t.Errorf("loadMigrations = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":     {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"no num":  {"migrations/init.sql": {}},
		"zero":    {"migrations/0000_a.sql": {}},
		"twice 1": {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMigrationRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	db, err := sql.Open("sqlite", dsn(path, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	bad := migration{Version: 1, Name: "0001_bad.sql", SQL: "CREATE TABLE a (x); CREATE TABLE oops ("}
	if err := applyMigration(ctx, db, bad, 1); err == nil {
		t.Fatal("a broken migration applied")
	}
	if v := userVersion(t, db); v != 0 {
		t.Errorf("user_version after a failed migration = %d, want 0", v)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'a'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table of a failed migration left behind: %d, %v", n, err)
	}
}

func TestCloseTwice(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "w.db"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close: no error")
	}
}

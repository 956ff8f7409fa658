// Package pgtest gives tests a PostgreSQL schema of their own: the database
// named by WIREWATCH_TEST_POSTGRES (default: the local server's postgres
// database, as this project's machines run one on 127.0.0.1:5432), a new
// schema in it per test, dropped when the test ends. Without a database the
// tests are skipped, unless CI is set: CI runs beside a PostgreSQL and must
// fail rather than pass without it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the database the tests use when WIREWATCH_TEST_POSTGRES is
// not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Base returns the test database's URL, or skips (fails under CI) when it
// does not answer.
func Base(t testing.TB) string {
	t.Helper()
	u := os.Getenv("WIREWATCH_TEST_POSTGRES")
	if u == "" {
		u = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL (WIREWATCH_TEST_POSTGRES or %s) does not answer: %v", DefaultURL, err)
		}
		t.Skipf("no PostgreSQL to test against (set WIREWATCH_TEST_POSTGRES): %v", err)
	}
	conn.Close(ctx)
	return u
}

// URL makes a schema of its own for one test and returns the test
// database's URL with that schema as the search path; the schema is dropped
// when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := Base(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "wwtest_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

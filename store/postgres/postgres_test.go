package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// dsn returns the test database's URL from WIREWATCH_TEST_POSTGRES. Without
// it, or when the database does not answer, the tests are skipped, unless CI
// is set: CI runs beside a PostgreSQL and must not pass without it.
func dsn(t testing.TB) string {
	t.Helper()
	u := os.Getenv("WIREWATCH_TEST_POSTGRES")
	fail := t.Skipf
	if os.Getenv("CI") != "" {
		fail = t.Fatalf
	}
	if u == "" {
		fail("WIREWATCH_TEST_POSTGRES is not set (a postgres:// URL of a database the tests may use)")
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		fail("PostgreSQL at WIREWATCH_TEST_POSTGRES does not answer: %v", err)
		return ""
	}
	conn.Close(ctx)
	return u
}

// schemaURL makes a schema of its own for one test, dropped at its end, and
// returns the URL of the test database with that schema as the search path.
func schemaURL(t testing.TB) string {
	t.Helper()
	base := dsn(t)
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

func open(t testing.TB, u string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, postgres.WithNormalizer(rules.Normalize), postgres.WithMaxConns(8))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s := open(t, schemaURL(t))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestConformanceDurable(t *testing.T) {
	dsn(t)
	storetest.RunDurable(t, func(t *testing.T) storetest.Opener {
		u := schemaURL(t)
		return func() store.Store { return open(t, u) }
	})
}

func TestConformanceShared(t *testing.T) {
	dsn(t)
	storetest.RunShared(t, func(t *testing.T) storetest.Opener {
		u := schemaURL(t)
		return func() store.Store { return open(t, u) }
	})
}

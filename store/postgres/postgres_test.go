package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/postgres/pgtest"
	"github.com/wirewatch/wirewatch/store/storetest"
)

func open(t testing.TB, u string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, postgres.WithNormalizer(rules.Normalize), postgres.WithMaxConns(8))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pgtest.Base(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s := open(t, pgtest.URL(t))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestConformanceDurable(t *testing.T) {
	pgtest.Base(t)
	storetest.RunDurable(t, func(t *testing.T) storetest.Opener {
		u := pgtest.URL(t)
		return func() store.Store { return open(t, u) }
	})
}

func TestConformanceShared(t *testing.T) {
	pgtest.Base(t)
	storetest.RunShared(t, func(t *testing.T) storetest.Opener {
		u := pgtest.URL(t)
		return func() store.Store { return open(t, u) }
	})
}

// TestReplicasMigrateOnce: replicas opening a new database at once apply
// the migrations once and all start.
func TestReplicasMigrateOnce(t *testing.T) {
	u := pgtest.URL(t)
	const replicas = 5
	errs := make(chan error, replicas)
	for range replicas {
		go func() {
			s, err := postgres.Open(context.Background(), u)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("a replica did not start: %v", err)
		}
	}
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, version int
	if err := conn.QueryRow(context.Background(), `SELECT COUNT(*), MAX(version) FROM wirewatch_schema`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version < 1 {
		t.Errorf("schema record: %d rows, version %d; want one row at the newest version", rows, version)
	}
}

// TestNewerSchemaRefused: a database written by a newer wirewatch is
// refused with a message that says so, and the URL's password is not in it.
func TestNewerSchemaRefused(t *testing.T) {
	u := pgtest.URL(t)
	s, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE wirewatch_schema SET version = 999`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "newer than this wirewatch knows") {
		t.Errorf("Open of a newer schema = %v, want a refusal that says why", err)
	}
}

// TestURLSecretNotInErrors: a bad URL or an unreachable server is reported
// without the password.
func TestURLSecretNotInErrors(t *testing.T) {
	for _, u := range []string{
		"postgres://user:s3cretpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=1",
		"postgres://user:s3cretpw@127.0.0.1:5432/db?sslmode=bogus",
	} {
		_, err := postgres.Open(context.Background(), u)
		if err == nil || strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("Open(%q) = %v; want an error without the password", strings.Replace(u, "s3cretpw", "…", 1), err)
		}
	}
}

// TestFrozenReplicaReleasesItsLocks: a session left idle inside a
// transaction (a replica stopped while holding locks) is ended by the
// server, so the locks it held come free for the other replicas.
func TestFrozenReplicaReleasesItsLocks(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, u, postgres.WithStuckTransaction(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	// The frozen replica: a session with the store's settings that takes a
	// lock inside a transaction and then does nothing.
	frozen, err := postgres.Conn(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	defer frozen.Release()
	if _, err := frozen.Exec(ctx, `BEGIN; SELECT pg_advisory_xact_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		var got bool
		if err := other.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(4242)`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the lock of a session idle in its transaction was still held after 30 s")
		}
	}
}

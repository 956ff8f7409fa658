package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/postgres/pgtest"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// TestStoresAnswerAlike: the same stories in the SQLite and the PostgreSQL
// store give the same answers to every lookup and preview, and the same
// "at least N" bounds: each store narrows the candidates with its own
// full-text index, and the rule engine decides.
func TestStoresAnswerAlike(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the corpus into two stores")
	}
	pgURL := pgtest.URL(t)
	corpus := loadCorpus(t)
	lite, err := sqlite.Open(context.Background(), t.TempDir()+"/w.db", sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := postgres.Open(context.Background(), pgURL, postgres.WithNormalizer(rules.Normalize))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	svcs := map[string]*service.Service{}
	for name, st := range map[string]store.Store{"sqlite": lite, "postgres": pg} {
		ingest(t, st, corpus)
		svcs[name] = service.New(service.Options{Store: st, Now: func() time.Time { return now }, Budget: time.Hour})
	}
	ctx := context.Background()
	ids := func(hs []service.Hit) []string {
		out := make([]string, len(hs))
		for i, h := range hs {
			out[i] = h.Story.ID
		}
		return out
	}
	for _, q := range corpusQueries {
		a, err := svcs["sqlite"].SearchResults(ctx, q, time.Time{}, 10)
		if err != nil {
			t.Fatalf("%q on SQLite: %v", q, err)
		}
		b, err := svcs["postgres"].SearchResults(ctx, q, time.Time{}, 10)
		if err != nil {
			t.Fatalf("%q on PostgreSQL: %v", q, err)
		}
		if !slices.Equal(ids(a.Hits), ids(b.Hits)) || a.Truncated != b.Truncated {
			t.Errorf("%q: SQLite %v (truncated %v), PostgreSQL %v (truncated %v)", q, ids(a.Hits), a.Truncated, ids(b.Hits), b.Truncated)
		}
		pa, err := svcs["sqlite"].Preview(ctx, q, now.AddDate(0, 0, -30), 5)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := svcs["postgres"].Preview(ctx, q, now.AddDate(0, 0, -30), 5)
		if err != nil {
			t.Fatal(err)
		}
		if pa.Total != pb.Total || pa.Truncated != pb.Truncated || !slices.Equal(ids(pa.Stories), ids(pb.Stories)) {
			t.Errorf("%q preview: SQLite %d (truncated %v), PostgreSQL %d (truncated %v)", q, pa.Total, pa.Truncated, pb.Total, pb.Truncated)
		}
	}
}

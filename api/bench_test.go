package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/story"
)

// benchStories is the size of the preview benchmark's store.
const benchStories = 100_000

// buildCorpus fills a store with benchStories stories published over the
// last 30 days: words from a 20,000-word vocabulary drawn with a Zipf
// distribution (s = 1.1), titles of 8–13 words, summaries of 30–59 words, and
// a few named words at known rates (nvidia in 1 story of 5, china in 1 of 3,
// export in 1 of 12, walrus in 1 of 2,000).
func buildCorpus(b *testing.B, path string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, 19_999)
	words := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("w%d", zipf.Uint64())
		}
		return out
	}
	span := 30 * 24 * time.Hour
	batch := make([]story.Story, 0, 1000)
	for i := range benchStories {
		title := words(8 + rng.IntN(6))
		summary := words(30 + rng.IntN(30))
		if i%5 == 0 {
			title[rng.IntN(len(title))] = "Nvidia"
		}
		if i%3 == 0 {
			summary[rng.IntN(len(summary))] = "China"
		}
		if i%12 == 0 {
			title[rng.IntN(len(title))] = "exports"
		}
		if i%2000 == 0 {
			summary[rng.IntN(len(summary))] = "walrus"
		}
		pub := now.Add(-time.Duration(rng.Int64N(int64(span))))
		batch = append(batch, story.Story{ID: fmt.Sprintf("b%06d", i), Source: fmt.Sprintf("Source %d", i%50),
			Title: strings.Join(title, " "), Summary: strings.Join(summary, " "),
			URL: fmt.Sprintf("https://news%d.example/%d", i%50, i), Published: pub, Fetched: pub})
		if len(batch) == cap(batch) {
			if _, err := st.Ingest(ctx, 0, batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkPreview100k times POST /api/v1/rules/preview (30 days, 20
// stories) over a store of 100,000 stories, through the HTTP handler, and
// reports the 50th and 95th percentile latency of each query.
func BenchmarkPreview100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	start := time.Now()
	buildCorpus(b, path)
	b.Logf("built %d stories in %v", benchStories, time.Since(start).Round(time.Millisecond))
	st, err := sqlite.Open(context.Background(), path, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := service.New(service.Options{Store: st, Now: func() time.Time { return now }})
	h := api.New(api.Options{Service: svc, Store: st, Logger: slog.New(slog.DiscardHandler)})

	queries := []struct{ name, query string }{
		{"rare", "walrus"},
		{"and", "nvidia AND china"},
		{"spec", `nvidia AND (china OR beijing) AND export* -"stock price"`},
		{"common", "china"},
		{"phrase", `"w1 w2"`},
		{"regex", `/w1[0-9]{3}x/`},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			body, _ := json.Marshal(api.PreviewRequest{Query: q.query, Days: 30})
			var lat []time.Duration
			var res api.PreviewResult
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/rules/preview", bytes.NewReader(body))
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				lat = append(lat, time.Since(t0))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", q.query, rec.Code, rec.Body)
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(float64(res.Total), "matches")
			b.ReportMetric(float64(res.Scanned), "scanned")
			trunc := 0.0
			if res.Truncated {
				trunc = 1
			}
			b.ReportMetric(trunc, "truncated")
		})
	}
}

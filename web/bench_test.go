package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/story"
	"github.com/wirewatch/wirewatch/web"
)

// benchRules are the rules of the page benchmark's store.
const benchRules = 10

// buildDashboardStore fills a store as a month of a running bot would: n
// stories over 30 days from 20 sources, fetched as they were published; a
// quarter of them matched by one of benchRules rules, in clusters of three
// (the later copies follow-ups); one delivery per match to one of two
// targets, nearly all sent, some failed, a few pending.
func buildDashboardStore(b *testing.B, n int) *sqlite.Store {
	b.Helper()
	ctx := context.Background()
	clock := now.Add(-30 * 24 * time.Hour)
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "w.db"), sqlite.WithClock(func() time.Time { return clock }))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var srcs []store.Source
	for i := range 20 {
		srcs = append(srcs, store.Source{Name: fmt.Sprintf("Source %d", i), URL: fmt.Sprintf("https://s%d.example/rss", i), Origin: store.OriginConfig})
	}
	if _, err := st.SyncConfigSources(ctx, srcs); err != nil {
		b.Fatal(err)
	}
	var rules []store.Rule
	for r := range benchRules {
		rules = append(rules, store.Rule{Name: fmt.Sprintf("rule-%d", r), Query: fmt.Sprintf("topic%d", r),
			Notify: []string{"console"}, Origin: store.OriginConfig})
	}
	if err := st.SyncConfigRules(ctx, rules); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	step := 30 * 24 * time.Hour / time.Duration(n)
	plan := func(_ context.Context, _ store.PlanTx, fresh []story.Story) (store.Plan, error) {
		var p store.Plan
		for i := range fresh {
			s := &fresh[i]
			var k int
			fmt.Sscanf(s.ID, "p%d", &k)
			if k%4 != 0 {
				continue
			}
			m := k / 4
			rule := fmt.Sprintf("rule-%d", m/3%benchRules)
			s.Cluster = fmt.Sprintf("c%d", m/3)
			target := []string{"console", "hook"}[m/3%2]
			d := store.Delivery{Target: target, StoryID: s.ID, DedupKey: s.ID, Cluster: s.Cluster, Rules: []string{rule}, Terms: []string{"topic"}}
			if m%3 != 0 {
				d.Kind = store.KindFollowUp
			}
			p.Matches = append(p.Matches, store.Match{StoryID: s.ID, Rule: rule, Terms: []string{"topic"}})
			p.Deliveries = append(p.Deliveries, d)
		}
		return p, nil
	}
	batch := make([]story.Story, 0, 500)
	for i := range n {
		pub := now.Add(-30*24*time.Hour + time.Duration(i)*step)
		title := fmt.Sprintf("Story %d about w%d and w%d", i, rng.IntN(500), rng.IntN(5000))
		if i%4 == 0 {
			title += fmt.Sprintf(" topic%d", i/12%benchRules)
		}
		if i%5 == 0 {
			title += " nvidia"
		}
		batch = append(batch, story.Story{ID: fmt.Sprintf("p%07d", i), SourceID: srcs[i%20].ID, Source: srcs[i%20].Name,
			Title: title, Summary: "A summary with some words w1 w2 w3 in it.", URL: fmt.Sprintf("https://s%d.example/%d", i%20, i),
			Published: pub, Fetched: pub})
		if len(batch) == cap(batch) || i == n-1 {
			clock = pub
			if _, err := st.Ingest(ctx, srcs[0].ID, batch, plan); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
			settle(b, st, rng)
		}
	}
	return st
}

// settle sends the due rows of every lane: most sent, 1 in 50 failed,
// and leaves those of the last hour pending.
func settle(b *testing.B, st *sqlite.Store, rng *rand.Rand) {
	b.Helper()
	ctx := context.Background()
	lanes, err := st.ClaimLanes(ctx, store.LaneClaim{Owner: "bench", TTL: time.Minute, Lanes: 10, Rows: 10_000})
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range lanes {
		var sent, failed []int64
		for _, d := range l.Due {
			if rng.IntN(50) == 0 {
				failed = append(failed, d.ID)
			} else {
				sent = append(sent, d.ID)
			}
		}
		lease := l.Lease
		for _, o := range []store.Outcome{{IDs: sent, Status: store.StatusSent, At: l.Due[0].Created, Attempt: true},
			{IDs: failed, Status: store.StatusFailed, Error: "webhook: status 500", At: l.Due[0].Created, Attempt: true}} {
			if len(o.IDs) == 0 {
				continue
			}
			if lease, err = st.Settle(ctx, l.Target, lease, time.Minute, o); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.ReleaseLane(ctx, l.Target, lease, store.Hold{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPages times every dashboard page through the whole handler over
// stores of 20,000 and 100,000 stories (see buildDashboardStore), and
// reports each page's 50th and 95th percentile server time.
func BenchmarkPages(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			start := time.Now()
			st := buildDashboardStore(b, n)
			b.Logf("built %d stories in %v", n, time.Since(start).Round(time.Millisecond))
			svc := service.New(service.Options{Store: st, Now: func() time.Time { return now }, Targets: testTargets(b)})
			h := web.Handler(web.Options{Listen: "127.0.0.1:0", Store: st, Gatherer: prometheus.NewRegistry(),
				Service: svc, Logger: slog.New(slog.DiscardHandler)})
			rules, err := st.Rules(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			pages := []struct{ name, method, path, form string }{
				{"overview", "GET", "/", ""},
				{"sources", "GET", "/sources", ""},
				{"source", "GET", "/sources/1", ""},
				{"rules", "GET", "/rules", ""},
				{"rule", "GET", fmt.Sprintf("/rules/%d", rules[0].ID), ""},
				{"preview", "POST", "/rules/preview", "query=" + url.QueryEscape("nvidia topic1")},
				{"alerts", "GET", "/alerts", ""},
				{"notifiers", "GET", "/notifiers", ""},
				{"stories", "GET", "/stories?q=nvidia", ""},
				{"story", "GET", "/stories/p0000012", ""},
			}
			for _, p := range pages {
				b.Run(p.name, func(b *testing.B) {
					var lat []time.Duration
					for b.Loop() {
						req := httptest.NewRequest(p.method, p.path, strings.NewReader(p.form))
						req.Host = "127.0.0.1"
						if p.form != "" {
							req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
							req.Header.Set("Sec-Fetch-Site", "same-origin")
						}
						rec := httptest.NewRecorder()
						t0 := time.Now()
						h.ServeHTTP(rec, req)
						lat = append(lat, time.Since(t0))
						if rec.Code != http.StatusOK {
							b.Fatalf("%s %s: %d %s", p.method, p.path, rec.Code, rec.Body)
						}
					}
					slices.Sort(lat)
					pct := func(q float64) float64 {
						return float64(lat[min(len(lat)-1, int(float64(len(lat))*q))].Microseconds()) / 1000
					}
					b.ReportMetric(pct(0.50), "p50-ms")
					b.ReportMetric(pct(0.95), "p95-ms")
				})
			}
		})
	}
}

package service_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/story"
)

// now is the test clock: the day after the newest corpus story.
var now = time.Date(2022, 9, 24, 12, 0, 0, 0, time.UTC)

// env is a service over a real SQLite store and a real rule set.
type env struct {
	st  *sqlite.Store
	rs  *bot.RuleSet
	svc *service.Service
}

func newEnv(t *testing.T, mod func(*service.Options)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := sources.NewFetcher(sources.Options{Timeout: 5 * time.Second})
	t.Cleanup(f.Close)
	e := &env{st: st, rs: bot.NewRuleSet(st, slog.New(slog.DiscardHandler))}
	// A generous budget: the race detector and a busy machine must not
	// make a test's lookup stop early.
	o := service.Options{Store: st, Rules: e.rs, Fetcher: f, Now: func() time.Time { return now }, Budget: time.Hour}
	if mod != nil {
		mod(&o)
	}
	e.svc = service.New(o)
	return e
}

// corpusPath is the shared news corpus, relative to this package.
const corpusPath = "../../shared/corpus/news/huffpost_news_category_v3_head9999.jsonl"

// loadCorpus reads the corpus headlines as stories, oldest last as in the
// file; it skips the test when the corpus is missing.
func loadCorpus(t testing.TB) []story.Story {
	t.Helper()
	f, err := os.Open(corpusPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("corpus not found at " + corpusPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []story.Story
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			ID, Title, Summary, URL, Published, Category string
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		pub, err := time.Parse(time.DateOnly, rec.Published)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, story.Story{
			ID: rec.ID, Source: "HuffPost", Title: rec.Title, Summary: rec.Summary, URL: rec.URL,
			CanonicalURL: rec.URL, Categories: []string{rec.Category}, Published: pub, Fetched: now,
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ingest stores stories in batches, matching nothing.
func ingest(t testing.TB, st store.Store, stories []story.Story) {
	t.Helper()
	for i := 0; i < len(stories); i += 1000 {
		if _, err := st.Ingest(context.Background(), 0, stories[i:min(i+1000, len(stories))], nil); err != nil {
			t.Fatal(err)
		}
	}
}

// stored returns every stored story in the store's order: newest published
// first, then newest stored first.
func stored(t testing.TB, st store.Store) []story.Story {
	t.Helper()
	all, err := st.Stories(context.Background(), store.StoryQuery{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// bruteForce evaluates q over every story with the reference evaluator.
func bruteForce(t testing.TB, all []story.Story, query string, since time.Time) []service.Hit {
	t.Helper()
	q, err := rules.Parse(query)
	if err != nil {
		t.Fatalf("%q: %v", query, err)
	}
	var out []service.Hit
	for i := range all {
		if all[i].Published.Before(since) {
			continue
		}
		if terms, ok := q.Eval(&all[i]); ok {
			out = append(out, service.Hit{Story: all[i], Terms: terms})
		}
	}
	return out
}

func ids(hits []service.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Story.ID
	}
	return out
}

// corpusQueries cover each kind of term: words, phrases, prefixes, accents,
// negation, regular expressions and field scopes.
var corpusQueries = []string{
	`trump`,
	`white house`,
	`"white house"`,
	`vaccin*`,
	`biden OR trump`,
	`trump -biden`,
	`trump NOT (biden OR pence)`,
	`beyonce`,
	`Beyoncé`,
	`pokemon OR doppelganger OR krejcikova`,
	`/\bcovid-?19\b/`,
	`/\b(h|b)iden\b/ ukraine`,
	`title:biden`,
	`title:(biden OR harris) summary:senate`,
	`category:politics`,
	`category:"world news" -ukraine`,
	`source:huffpost AND putin`,
	`site:huffpost.com AND zelenskyy`,
	`url:covid`,
	`biden NEAR/3 putin`,
	`U.S.`,
	`covid-19`,
	`supreme court abortion`,
}

func TestSearchIsWhatTheRuleEngineMatches(t *testing.T) {
	e := newEnv(t, nil)
	ingest(t, e.st, loadCorpus(t))
	all := stored(t, e.st)
	ctx := context.Background()
	for _, since := range []time.Time{{}, now.AddDate(0, 0, -400)} {
		for _, query := range corpusQueries {
			want := bruteForce(t, all, query, since)
			for _, limit := range []int{10, 1 << 20} {
				res, err := e.svc.SearchResults(ctx, query, since, limit)
				if err != nil {
					t.Fatalf("%q: %v", query, err)
				}
				w := want[:min(limit, len(want))]
				if res.Truncated {
					t.Errorf("%q since %v limit %d: truncated after %d", query, since, limit, res.Scanned)
				}
				if !slices.Equal(ids(res.Hits), ids(w)) {
					t.Errorf("%q since %v limit %d: got %d hits, want %d\n got %v\nwant %v",
						query, since.Format(time.DateOnly), limit, len(res.Hits), len(w), head(ids(res.Hits)), head(ids(w)))
					continue
				}
				for i := range w {
					if !slices.Equal(res.Hits[i].Terms, w[i].Terms) {
						t.Errorf("%q: story %s: terms %q, want %q", query, w[i].Story.ID, res.Hits[i].Terms, w[i].Terms)
						break
					}
				}
			}
			if len(want) == 0 && since.IsZero() {
				t.Errorf("%q matches nothing in the corpus: a weak test", query)
			}
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 12)] }

func TestPreviewCountsEveryMatchPerDay(t *testing.T) {
	e := newEnv(t, nil)
	ingest(t, e.st, loadCorpus(t))
	all := stored(t, e.st)
	since := now.AddDate(0, 0, -30)
	for _, query := range corpusQueries {
		want := bruteForce(t, all, query, since)
		p, err := e.svc.Preview(context.Background(), query, since, 5)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != len(want) || p.Truncated {
			t.Errorf("%q: total %d (truncated %v), want %d", query, p.Total, p.Truncated, len(want))
		}
		if !slices.Equal(ids(p.Stories), ids(want[:min(5, len(want))])) {
			t.Errorf("%q: sample %v, want %v", query, ids(p.Stories), ids(want[:min(5, len(want))]))
		}
		if len(p.PerDay) != 31 || p.PerDay[0].Day != "2022-08-25" || p.PerDay[30].Day != "2022-09-24" {
			t.Fatalf("%q: per day %v, want 31 days from 2022-08-25", query, p.PerDay)
		}
		sum := 0
		for _, d := range p.PerDay {
			sum += d.Count
		}
		if sum != p.Total {
			t.Errorf("%q: per-day counts add up to %d, want %d", query, sum, p.Total)
		}
	}
}

// TestSearchPagesThroughStoriesOfOneInstant checks that stories sharing one
// publication time are neither lost nor repeated across pages.
func TestSearchPagesThroughStoriesOfOneInstant(t *testing.T) {
	e := newEnv(t, nil)
	at := now.Add(-time.Hour)
	var batch []story.Story
	for i := range 1500 {
		pub := at
		if i%3 == 0 {
			pub = at.Add(-time.Duration(i) * time.Millisecond)
		}
		batch = append(batch, story.Story{ID: "s" + strconv.Itoa(i), Title: "walrus sighting " + strconv.Itoa(i), Published: pub})
	}
	ingest(t, e.st, batch)
	p, err := e.svc.Preview(context.Background(), "walrus", time.Time{}, 1500)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 1500 || p.Truncated {
		t.Fatalf("total %d (truncated %v), want 1500", p.Total, p.Truncated)
	}
	seen := map[string]bool{}
	for _, h := range p.Stories {
		if seen[h.Story.ID] {
			t.Fatalf("story %s twice", h.Story.ID)
		}
		seen[h.Story.ID] = true
	}
	want := ids(bruteForce(t, stored(t, e.st), "walrus", time.Time{}))
	if !slices.Equal(ids(p.Stories), want) {
		t.Error("stories not in the store's newest-first order")
	}
}

func TestSearchIsBounded(t *testing.T) {
	e := newEnv(t, func(o *service.Options) { o.MaxScan = 50 })
	var batch []story.Story
	for i := range 300 {
		title := "walrus"
		if i%2 == 0 {
			title = "walrus seal"
		}
		batch = append(batch, story.Story{ID: "s" + strconv.Itoa(i), Title: title, Published: now.Add(-time.Duration(i) * time.Minute)})
	}
	ingest(t, e.st, batch)
	ctx := context.Background()

	res, err := e.svc.SearchResults(ctx, "walrus seal", time.Time{}, 10)
	if err != nil || res.Truncated || len(res.Hits) != 10 {
		t.Fatalf("limit reached first: %d hits, truncated %v, err %v", len(res.Hits), res.Truncated, err)
	}
	res, err = e.svc.SearchResults(ctx, "walrus -seal", time.Time{}, 1000)
	if err != nil || !res.Truncated || res.Scanned != 50 || len(res.Hits) != 25 {
		t.Fatalf("bound reached first: %d hits of %d scanned, truncated %v, err %v", len(res.Hits), res.Scanned, res.Truncated, err)
	}
	p, err := e.svc.Preview(ctx, "/wal+rus/", time.Time{}, 3)
	if err != nil || !p.Truncated || p.Total != 50 || len(p.Stories) != 3 {
		t.Fatalf("regex preview: total %d, truncated %v, err %v", p.Total, p.Truncated, err)
	}
	e2 := newEnv(t, func(o *service.Options) { o.MaxScan = 300 })
	ingest(t, e2.st, batch)
	p, err = e2.svc.Preview(ctx, "/wal+rus/", time.Time{}, 3)
	if err != nil || p.Truncated || p.Total != 300 {
		t.Fatalf("exactly MaxScan candidates: total %d, truncated %v, err %v", p.Total, p.Truncated, err)
	}
}

func TestSearchStopsAtTheTimeBudget(t *testing.T) {
	e := newEnv(t, func(o *service.Options) { o.Budget = time.Nanosecond })
	var batch []story.Story
	for i := range 300 {
		batch = append(batch, story.Story{ID: strconv.Itoa(i), Title: "walrus", Published: now.Add(-time.Duration(i) * time.Minute)})
	}
	ingest(t, e.st, batch)
	p, err := e.svc.Preview(context.Background(), "walrus", time.Time{}, 1)
	if err != nil || !p.Truncated || p.Total >= 300 || p.Total == 0 {
		t.Fatalf("total %d, truncated %v, err %v; want some, truncated", p.Total, p.Truncated, err)
	}
}

func TestSearchRejectsBadQueryWithColumn(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.Search(context.Background(), "nvidia (china", time.Time{}, 10)
	var qe *rules.Error
	if !errors.As(err, &qe) || qe.Column != 8 || !errors.Is(err, service.ErrInvalid) {
		t.Fatalf("err %v, want a *rules.Error at column 8 that is ErrInvalid", err)
	}
	if _, err := e.svc.Preview(context.Background(), "-china", time.Time{}, 5); !errors.As(err, &qe) {
		t.Fatalf("err %v, want a *rules.Error", err)
	}
}

func TestSearchHonoursCancellation(t *testing.T) {
	e := newEnv(t, nil)
	ingest(t, e.st, []story.Story{{ID: "a", Title: "walrus", Published: now}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.svc.Search(ctx, "walrus", time.Time{}, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// TestRegexLookupsWatchTheBudgetAfterEveryStory: with a /regex/ one story may
// cost up to the regular expression budget, so a lookup looks at its own
// budget after each story, not after every 128 (issue 12, item 1).
func TestRegexLookupsWatchTheBudgetAfterEveryStory(t *testing.T) {
	e := newEnv(t, nil)
	var stories []story.Story
	for i := range 50 {
		stories = append(stories, story.Story{ID: fmt.Sprintf("x%02d", i), Title: "walrus", Content: strings.Repeat("x", 30_000),
			Published: now.Add(-time.Duration(i) * time.Minute), Fetched: now})
	}
	ingest(t, e.st, stories)
	res, err := e.svc.WithBudget(time.Nanosecond).SearchResults(context.Background(), `/(x+x+)+y/`, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || res.Scanned != 1 {
		t.Errorf("regex lookup: scanned %d, truncated %v; want 1, true", res.Scanned, res.Truncated)
	}
	res, err = e.svc.WithBudget(time.Nanosecond).SearchResults(context.Background(), `walrus`, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scanned != 50 {
		t.Errorf("word lookup: scanned %d, want all 50 (the clock is read every 128)", res.Scanned)
	}
}

package commands_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// corpusPath is the shared news corpus, relative to this package.
const corpusPath = "../../../shared/corpus/news/huffpost_news_category_v3_head9999.jsonl"

// loadCorpus reads the corpus headlines as stories, in file order (newest
// first); it skips when the corpus is missing.
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
		var rec struct{ ID, Title, Summary, URL, Published, Category string }
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

// expectItems is what a list of stories should show: the reference
// evaluator's verdict over every stored story, newest first, as items.
func expectItems(t *testing.T, all []story.Story, query string, since time.Time, n int) (items []commands.Item, total int) {
	t.Helper()
	q, err := rules.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		s := &all[i]
		if s.Published.Before(since) {
			continue
		}
		terms, ok := q.Eval(s)
		if !ok {
			continue
		}
		total++
		if len(items) < n {
			items = append(items, commands.Item{Title: s.Title, URL: s.URL,
				Detail: fmt.Sprintf("HuffPost · %s · terms: %s", s.Published.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(terms, ", "))})
		}
	}
	return items, total
}

// corpusQueries cover each kind of term: words, phrases, prefixes, accents,
// negation, regular expressions and field scopes.
var corpusQueries = []string{
	`trump`, `white house`, `"white house"`, `vaccin*`, `biden OR trump`, `trump -biden`,
	`beyonce`, `Pokémon OR doppelganger`, `/\bcovid-?19\b/`, `title:biden`, `category:politics`,
	`category:"world news" -ukraine`, `site:huffpost.com zelenskyy`, `biden NEAR/3 putin`, `U.S. supreme`,
}

// TestNewsIsWhatARuleWouldMatch checks /news against a brute-force run of
// the reference evaluator over every stored corpus story.
func TestNewsIsWhatARuleWouldMatch(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.ingest(t, loadCorpus(t)...)
	all, err := e.st.Stories(t.Context(), store.StoryQuery{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, query := range corpusQueries {
		for _, since := range []string{"", "since:2000d", "since:2022-01-01"} {
			from := now.Add(-commands.DefaultNewsSince)
			if since != "" {
				from, _ = commands.ParseSince(strings.TrimPrefix(since, "since:"), now)
			}
			want, total := expectItems(t, all, query, from, 10)
			got := e.do(t, req("news", "", query+" "+since))
			if got.Error || !got.Ephemeral || got.Footer != "" {
				t.Fatalf("%q %s: %+v", query, since, got)
			}
			if !slices.Equal(got.Items, want) {
				t.Errorf("%q %s: got %d items, want %d\n got %+v\nwant %+v", query, since, len(got.Items), len(want), got.Items, want)
			}
			if since == "since:2000d" && total == 0 {
				t.Errorf("%q matches nothing in the corpus: a weak test", query)
			}
		}
	}
}

// TestWatchTestCountsWhatARuleWouldMatch checks /watch test's count and
// sample against the reference evaluator over the corpus.
func TestWatchTestCountsWhatARuleWouldMatch(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.ingest(t, loadCorpus(t)...)
	all, err := e.st.Stories(t.Context(), store.StoryQuery{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, query := range corpusQueries {
		for _, since := range []string{"", "since:30d"} {
			from := now.AddDate(0, 0, -7)
			span := "the last 7 days"
			if since != "" {
				from, span = now.AddDate(0, 0, -30), "the last 30 days"
			}
			want, total := expectItems(t, all, query, from, 5)
			got := e.do(t, req("watch", "test", query+" "+since))
			var head string
			switch total {
			case 0:
				head = "No stored story of " + span + " matches"
			case 1:
				head = "1 story of " + span + " matches"
			default:
				head = fmt.Sprintf("%d stories of %s match", total, span)
			}
			if got.Error || !got.Ephemeral || !strings.HasPrefix(got.Text, head) {
				t.Errorf("%q %s: %q, want it to start %q", query, since, got.Text, head)
			}
			if !slices.Equal(got.Items, want) {
				t.Errorf("%q %s: items\n%+v\nwant\n%+v", query, since, got.Items, want)
			}
		}
	}
}

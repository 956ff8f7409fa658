package sqlite

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
)

// benchStories is how many stories the benchmark database holds before a
// benchmark starts.
const benchStories = 100_000

// corpus makes deterministic, news-like text: words drawn from a fixed
// vocabulary with a Zipf distribution, so that some words are in most stories
// and most words are rare, as in real headlines.
type corpus struct {
	words []string
	zipf  *rand.Zipf
	rng   *rand.Rand
}

// Words the FTS benchmark looks for, placed in the vocabulary at known ranks.
var benchWords = map[int]string{3: "china", 40: "nvidia", 300: "export", 2000: "zürich", 9000: "walrus"}

func newCorpus(seed uint64) *corpus {
	rng := rand.New(rand.NewPCG(seed, seed))
	const size = 20_000
	seen := map[string]bool{}
	words := make([]string, 0, size)
	for len(words) < size {
		if w, ok := benchWords[len(words)]; ok {
			words = append(words, w)
			seen[w] = true
			continue
		}
		n := 3 + rng.IntN(8)
		var sb strings.Builder
		for range n {
			sb.WriteByte(byte('a' + rng.IntN(26)))
		}
		if w := sb.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return &corpus{words: words, zipf: rand.NewZipf(rng, 1.1, 1, size-1), rng: rng}
}

func (c *corpus) text(n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(c.words[c.zipf.Uint64()])
	}
	return sb.String()
}

// story makes the i-th story of source src, fetched at fetched.
func (c *corpus) story(src, i int, fetched time.Time) story.Story {
	st := story.Story{
		ID:           fmt.Sprintf("s%d-%d", src, i),
		Title:        c.text(8 + c.rng.IntN(6)),
		Summary:      c.text(30 + c.rng.IntN(30)),
		URL:          fmt.Sprintf("https://news%d.example.com/%d?utm_source=rss", src, i),
		CanonicalURL: fmt.Sprintf("https://news%d.example.com/%d", src, i),
		Author:       "Wire Staff",
		Categories:   []string{"World", "Tech"},
		Published:    fetched.Add(-time.Duration(c.rng.IntN(3600)) * time.Second),
		Fetched:      fetched,
	}
	if i%3 == 0 {
		st.Content = c.text(150)
	}
	return st
}

// benchPlan matches every tenth story and alerts two targets about it.
var benchPlan = storetest.Plan(func(fresh []story.Story) ([]store.Match, []store.Delivery) {
	var ms []store.Match
	var ds []store.Delivery
	for i, st := range fresh {
		if i%10 != 0 {
			continue
		}
		ms = append(ms, store.Match{StoryID: st.ID, Rule: "bench", Terms: []string{"china"}})
		for _, tg := range []string{"hook", "team-slack:#news"} {
			ds = append(ds, store.Delivery{Target: tg, StoryID: st.ID, DedupKey: st.DedupKey(), Rules: []string{"bench"}})
		}
	}
	return ms, ds
})

var fixture struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// buildFixture writes, once per test binary, a database of benchStories
// stories from 50 sources, fetched over the last 30 days, ingested in batches
// of 1,000 with benchPlan.
func buildFixture() (string, error) {
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "wirewatch-bench-")
		if fixture.err != nil {
			return
		}
		fixture.path = filepath.Join(fixture.dir, "fixture.db")
		ctx := context.Background()
		s, err := Open(ctx, fixture.path)
		if err != nil {
			fixture.err = err
			return
		}
		defer s.Close()
		c := newCorpus(1)
		now := time.Now()
		const batch = 1000
		for b := range benchStories / batch {
			fetched := now.Add(-30 * 24 * time.Hour).Add(time.Duration(b) * 30 * 24 * time.Hour / (benchStories / batch))
			stories := make([]story.Story, batch)
			for i := range stories {
				stories[i] = c.story(b%50, b*batch+i, fetched)
			}
			if _, err := s.Ingest(ctx, 0, stories, benchPlan); err != nil {
				fixture.err = err
				return
			}
		}
	})
	return fixture.path, fixture.err
}

// openFixture opens a private copy of the 100k-story database.
func openFixture(b *testing.B) *Store {
	b.Helper()
	src, err := buildFixture()
	if err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(b.TempDir(), "bench.db")
	if err := copyFile(dst, src); err != nil {
		b.Fatal(err)
	}
	s, err := Open(b.Context(), dst)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// BenchmarkIngest measures one Ingest of 50 new stories (a tenth of them
// matched, each alerted to two targets) into a database of 100k stories.
func BenchmarkIngest(b *testing.B) {
	s := openFixture(b)
	c := newCorpus(2)
	ctx := b.Context()
	const batch = 50
	n := 0
	now := time.Now()
	for b.Loop() {
		stories := make([]story.Story, batch)
		for i := range stories {
			stories[i] = c.story(100+n%50, n*batch+i, now)
		}
		n++
		res, err := s.Ingest(ctx, 0, stories, benchPlan)
		if err != nil {
			b.Fatal(err)
		}
		if res.Fresh != batch {
			b.Fatalf("Fresh = %d", res.Fresh)
		}
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "stories/s")
}

// BenchmarkIngestRefetch measures the common poll: Ingest of 50 stories that
// are all stored already and unchanged.
func BenchmarkIngestRefetch(b *testing.B) {
	s := openFixture(b)
	c := newCorpus(3)
	ctx := b.Context()
	now := time.Now()
	stories := make([]story.Story, 50)
	for i := range stories {
		stories[i] = c.story(200, i, now)
	}
	if _, err := s.Ingest(ctx, 0, stories, benchPlan); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := s.Ingest(ctx, 0, stories, benchPlan)
		if err != nil {
			b.Fatal(err)
		}
		if res.Fresh != 0 {
			b.Fatalf("Fresh = %d", res.Fresh)
		}
	}
	b.ReportMetric(float64(len(stories))*float64(b.N)/b.Elapsed().Seconds(), "stories/s")
}

// BenchmarkStoriesFTS measures Stories with a text query and limit 10 (the
// /news command) over 100k stories, for words of several frequencies.
func BenchmarkStoriesFTS(b *testing.B) {
	s := openFixture(b)
	ctx := b.Context()
	for _, q := range []struct {
		name string
		f    story.WordFilter
	}{
		{"common", storetest.Phrase("china")},
		{"mid", storetest.Phrase("nvidia")},
		{"rare", storetest.Phrase("walrus")},
		{"diacritics", storetest.Phrase("zurich")},
		{"and", storetest.All(storetest.Phrase("nvidia"), storetest.Phrase("export"))},
		{"phrase", storetest.Phrase("nvidia", "china")},
		{"prefix", storetest.Prefix("expo")},
		{"none", storetest.Phrase("absentword")},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Stories(ctx, store.StoryQuery{Words: &q.f, Limit: 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("no-text", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Stories(ctx, store.StoryQuery{Limit: 10}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

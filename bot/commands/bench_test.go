package commands_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/story"
)

// benchStories is how many stories the lookup benchmarks search by
// default: the corpus repeated with new ids, spread evenly over the 30 days
// before now. WIREWATCH_BENCH_STORIES sets another number.
const benchStories = 100_000

// bench is the benchmarks' store, built on first use and removed when the
// test binary is done.
var bench struct {
	once    sync.Once
	core    *commands.Core
	dir     string
	schema  func() // drops the PostgreSQL schema, if one was made
	release func()
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.release != nil {
		bench.release()
	}
	if bench.schema != nil {
		bench.schema()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchSize is WIREWATCH_BENCH_STORIES, or benchStories.
func benchSize() (int, error) {
	v := os.Getenv("WIREWATCH_BENCH_STORIES")
	if v == "" {
		return benchStories, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("WIREWATCH_BENCH_STORIES=%q: want a positive number of stories", v)
	}
	return n, nil
}

// benchPostgres makes a schema of its own in the database named by
// WIREWATCH_BENCH_POSTGRES, when set, and returns its URL; the schema is
// dropped when the test binary is done.
func benchPostgres() (string, error) {
	base := os.Getenv("WIREWATCH_BENCH_POSTGRES")
	if base == "" {
		return "", nil
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("WIREWATCH_BENCH_POSTGRES: %w", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("wwbench_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	bench.schema = func() {
		if conn, err := pgx.Connect(context.Background(), base); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// benchCore returns a command core over a store of benchSize stories,
// built once per process: an SQLite file, or a PostgreSQL schema when
// WIREWATCH_BENCH_POSTGRES is set.
func benchCore(b *testing.B) *commands.Core {
	b.Helper()
	corpus := loadCorpus(b)
	bench.once.Do(func() {
		start := time.Now()
		var n int
		if n, bench.err = benchSize(); bench.err != nil {
			return
		}
		var pg string
		if pg, bench.err = benchPostgres(); bench.err != nil {
			return
		}
		bench.dir, bench.err = os.MkdirTemp("", "wirewatch-bench-")
		if bench.err != nil {
			return
		}
		var e *env
		e, bench.release = openEnv(b, bench.dir, envOptions{postgres: pg})
		step := 30 * 24 * time.Hour / time.Duration(n)
		batch := make([]story.Story, 0, 1000)
		for i := range n {
			s := corpus[i%len(corpus)]
			s.ID = fmt.Sprintf("%s-%d", s.ID, i/len(corpus))
			s.URL = fmt.Sprintf("%s?copy=%d", s.URL, i/len(corpus))
			s.CanonicalURL = s.URL
			s.Published = now.Add(-time.Duration(i+1) * step)
			batch = append(batch, s)
			if len(batch) == cap(batch) || i == n-1 {
				if _, err := e.st.Ingest(context.Background(), 0, batch, nil); err != nil {
					bench.err = err
					return
				}
				batch = batch[:0]
			}
		}
		if pg != "" {
			// What autovacuum does shortly after a bulk load: without
			// statistics the planner sorts every hit of a common word.
			if bench.err = analyze(pg); bench.err != nil {
				return
			}
		}
		bench.core = e.core
		kind := "SQLite"
		if pg != "" {
			kind = "PostgreSQL"
		}
		fmt.Fprintf(os.Stderr, "bench store (%s): %d stories in %v\n", kind, n, time.Since(start).Round(time.Second))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.core
}

// analyze gathers the planner's statistics on the stories.
func analyze(pg string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ANALYZE stories")
	return err
}

// benchQueries are typical queries of each kind. Regular expressions and
// terms only in fields outside the FTS index (category here) give the index
// no condition, so those lookups scan stories newest first, up to
// service.DefaultMaxScan of them or service.DefaultBudget.
var benchQueries = []struct {
	kind    string
	queries []string
}{
	{"word", []string{"trump", "ukraine", "covid"}},
	{"rare_word", []string{"krejcikova", "walrus", "doppelganger"}},
	{"two_words", []string{"white house", "biden ukraine", "climate change"}},
	{"phrase", []string{`"white house"`, `"supreme court"`, `"gun control"`}},
	{"prefix", []string{"vaccin*", "elect*", "immigra*"}},
	{"or", []string{"biden OR trump", "ukraine OR russia", "covid OR vaccine"}},
	{"negation", []string{"trump -biden", "covid -vaccine", "ukraine NOT russia"}},
	{"regex", []string{`/\bcovid-?19\b/`, `/\b(h|b)iden\b/`, `/ukrain(e|ian)/`}},
	{"regex_rare", []string{`/\bwalrus(es)?\b/`, `/krej[cč]/`, `/\bh[0-9]{2,3}\b/`}},
	{"regex_and_word", []string{`ukraine /\bzelensk/`, `trump /\b(indict|subpoena)/`, `covid /vaccin(e|ation)s?/`}},
	{"field", []string{"title:biden", "title:(trump OR biden)", "summary:ukraine"}},
	{"field_no_fts", []string{"category:politics", "url:covid", "site:huffpost.com AND category:sports"}},
}

// benchLookups runs one command per query kind and reports the median and
// 95th percentile latency in milliseconds.
func benchLookups(b *testing.B, mkReq func(query string) commands.Request) {
	core := benchCore(b)
	ctx := context.Background()
	for _, kind := range benchQueries {
		b.Run(kind.kind, func(b *testing.B) {
			var times []time.Duration
			truncated := 0
			i := 0
			for b.Loop() {
				q := kind.queries[i%len(kind.queries)]
				i++
				start := time.Now()
				r := core.Handle(ctx, mkReq(q))
				times = append(times, time.Since(start))
				if r.Error {
					b.Fatalf("%q: %s", q, r.Text)
				}
				if strings.HasPrefix(r.Footer, "Searched the newest") || strings.HasPrefix(r.Footer, "Counted over the newest") {
					truncated++
				}
			}
			slices.Sort(times)
			pct := func(p float64) float64 {
				return float64(times[min(len(times)-1, int(p*float64(len(times))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(float64(truncated)/float64(len(times)), "truncated/op")
		})
	}
}

// BenchmarkNews is /news QUERY (10 newest matches of the last 30 days) over
// benchStories stories.
func BenchmarkNews(b *testing.B) {
	benchLookups(b, func(q string) commands.Request { return req("news", "", q) })
}

// BenchmarkWatchTest is /watch test QUERY (every match of the last 7 days
// counted, 5 shown) over benchStories stories.
func BenchmarkWatchTest(b *testing.B) {
	benchLookups(b, func(q string) commands.Request { return req("watch", "test", q) })
}

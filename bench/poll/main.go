// Command poll measures polls of many sources through the real road: the
// fetcher, the parser, the SQLite store, clustering, the rule engine and the
// outbox. A child process serves the feeds on 127.0.0.1 (so its CPU is not
// counted). Three rounds: the first poll (every item is backlog: stored and
// clustered, not matched), a changed poll (every feed has as many new items,
// all matched and delivered to a console notifier writing to io.Discard), and
// an unchanged poll (every feed answers 304). It prints wall time, CPU time
// and peak RSS of each round.
//
//	go run ./bench/poll -sources 2000 -items 50
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/console"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

func main() {
	nSources := flag.Int("sources", 2000, "number of feeds")
	nItems := flag.Int("items", 50, "items per feed")
	corpus := flag.String("corpus", "../shared/corpus/news/huffpost_news_category_v3_head9999.jsonl", "headlines (JSON Lines)")
	serve := flag.Bool("serve", false, "internal: serve the feeds and print the address")
	concurrency := flag.Int("concurrency", 8, "fetches at once")
	memProfile := flag.String("memprofile", "", "write a heap profile after the changed round to this file")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the changed round to this file")
	flag.Parse()

	headlines, err := readHeadlines(*corpus)
	if err != nil {
		log.Fatal(err)
	}
	if *serve {
		serveFeeds(headlines, *nItems)
		return
	}

	child := exec.Command(os.Args[0], append(os.Args[1:], "-serve")...)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := child.Start(); err != nil {
		log.Fatal(err)
	}
	defer child.Process.Kill()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + strings.TrimSpace(addr)

	dir, err := os.MkdirTemp("", "wirewatch-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	srcs := make([]store.Source, *nSources)
	for i := range srcs {
		srcs[i] = store.Source{Name: fmt.Sprintf("feed-%04d", i), URL: fmt.Sprintf("%s/feed/%d", base, i), Origin: store.OriginConfig}
	}
	if _, err := st.SyncConfigSources(ctx, srcs); err != nil {
		log.Fatal(err)
	}
	rules := benchRules(headlines, 1000)
	if err := st.SyncConfigRules(ctx, rules); err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	b := bot.New(bot.Options{
		Store:       st,
		Fetcher:     sources.NewFetcher(sources.Options{Timeout: 30 * time.Second, MaxBody: 10 << 20, PerHost: *concurrency}),
		Notifiers:   map[string]notifiers.Notifier{"console": console.New("console", io.Discard)},
		Rules:       bot.NewRuleSet(st, logger),
		Metrics:     bot.NewMetrics(prometheus.NewRegistry(), st),
		Logger:      logger,
		Concurrency: *concurrency,
	})
	fmt.Printf("sources=%d items=%d rules=%d concurrency=%d\n", *nSources, *nItems, len(rules), *concurrency)
	for _, round := range []string{"first (backlog)", "changed (all new)", "unchanged (304)"} {
		wall, cpu := time.Now(), cpuTime()
		stopProfile := func() {}
		if *cpuProfile != "" && strings.HasPrefix(round, "changed") {
			stopProfile = startCPUProfile(*cpuProfile)
		}
		if err := b.RunOnce(ctx, 0); err != nil {
			log.Fatal(err)
		}
		stopProfile()
		elapsed, used := time.Since(wall), cpuTime()-cpu
		srcs, err := st.Sources(ctx)
		if err != nil {
			log.Fatal(err)
		}
		byStatus := map[int]int{}
		for _, s := range srcs {
			byStatus[s.State.LastStatus]++
		}
		fmt.Printf("%-18s wall %6.2fs  cpu %6.2fs  peak RSS %4d MB  sources by last status %v\n", round, elapsed.Seconds(), used.Seconds(), peakRSS()>>20, byStatus)
		if *memProfile != "" && strings.HasPrefix(round, "changed") {
			writeHeapProfile(*memProfile)
		}
	}
	all, err := st.Stories(ctx, store.StoryQuery{Limit: 1})
	if err != nil || len(all) == 0 {
		log.Fatalf("no stories stored: %v", err)
	}
	counts, err := st.MatchCounts(ctx, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	depth, err := st.OutboxDepth(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("matches recorded: %d, deliveries still pending (flood control holds them for summaries): %d\n", total, depth)
}

type headline struct{ Title, Summary string }

func readHeadlines(path string) ([]headline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []headline
	dec := json.NewDecoder(f)
	for dec.More() {
		var h struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
		}
		if err := dec.Decode(&h); err != nil {
			return nil, err
		}
		out = append(out, headline{h.Title, h.Summary})
	}
	return out, nil
}

// serveFeeds serves /feed/N in generations: a request without a validator
// gets generation 0; a request carrying generation 0's ETag gets generation 1
// (as many new items); one carrying generation 1's ETag gets 304.
func serveFeeds(hs []headline, items int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	etag := func(path string, gen int) string {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s#%d", path, gen)))
		return `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		gen := 0
		switch r.Header.Get("If-None-Match") {
		case etag(r.URL.Path, 0):
			gen = 1
		case etag(r.URL.Path, 1):
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag(r.URL.Path, gen))
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed %d</title><link>https://feeds.example/%d</link><description>bench</description>`, n, n)
		for i := range items {
			h := hs[((gen*7919+n)*items+i)%len(hs)]
			fmt.Fprintf(&b, `<item><guid>g%d-f%d-i%d</guid><title>%s</title><link>https://news.example/%d/%d/%d?utm_source=rss</link><description>%s</description><pubDate>%s</pubDate></item>`,
				gen, n, i, html.EscapeString(h.Title), gen, n, i, html.EscapeString(h.Summary), now.Add(time.Duration(gen)*time.Hour-time.Duration(i)*time.Minute).Format(time.RFC1123Z))
		}
		b.WriteString(`</channel></rss>`)
		io.WriteString(w, b.String())
	})))
}

// benchRules builds n two-word rules from words of the headlines.
func benchRules(hs []headline, n int) []store.Rule {
	var rules []store.Rule
	for i := 0; len(rules) < n && i < len(hs); i++ {
		words := strings.FieldsFunc(strings.ToLower(hs[i].Title), func(r rune) bool { return r < 'a' || r > 'z' })
		var long []string
		for _, w := range words {
			if len(w) >= 5 {
				long = append(long, w)
			}
		}
		if len(long) < 2 {
			continue
		}
		rules = append(rules, store.Rule{
			Name: fmt.Sprintf("r%d", len(rules)), Query: long[0] + " " + long[1],
			Notify: []string{"console"}, Origin: store.OriginConfig,
		})
	}
	return rules
}

func startCPUProfile(path string) (stop func()) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		log.Fatal(err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10
}

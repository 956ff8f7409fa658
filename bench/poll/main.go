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
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/bench/internal/feedbench"
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
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of one round to this file")
	profileRound := flag.String("profile-round", "changed", "the round -cpuprofile profiles: first, changed or unchanged")
	nRounds := flag.Int("rounds", 3, "rounds to run: 1 the first poll only, 2 also the changed one, 3 all")
	flag.Parse()

	headlines, err := feedbench.ReadHeadlines(*corpus)
	if err != nil {
		log.Fatal(err)
	}
	if *serve {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ln.Addr().String())
		log.Fatal(feedbench.Serve(ln, headlines, *nItems))
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
	rules := feedbench.Rules(headlines, 1000, "console")
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
	rounds := []string{"first (backlog)", "changed (all new)", "unchanged (304)"}
	for _, round := range rounds[:min(max(*nRounds, 1), len(rounds))] {
		wall, cpu := time.Now(), cpuTime()
		stopProfile := func() {}
		if *cpuProfile != "" && strings.HasPrefix(round, *profileRound) {
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
	ds, err := st.Deliveries(ctx, store.DeliveryQuery{Limit: 1 << 30})
	if err != nil {
		log.Fatal(err)
	}
	byKind := map[string]int{}
	for _, d := range ds {
		byKind[d.Status+"/"+cmp.Or(d.Kind, "alert")]++
	}
	fmt.Printf("deliveries by status and kind: %v\n", byKind)
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

// Command runonce measures `wirewatch run --once` as whole processes, as a
// new user runs it: the built binary, a configuration file with thousands of
// sources and rules, an SQLite file in a temporary folder. It serves the
// feeds itself on 127.0.0.1 (its CPU is not counted: only the child
// process's is) and runs three polls, each a new process on the same
// database: the first (every item new, backlog), a changed one (every feed
// has as many new items, all matched and delivered to a console notifier
// writing to a file) and an unchanged one (every feed answers 304). Then it
// starts `wirewatch run` on the database the polls left and times how long
// /healthz takes to answer. It prints wall time, CPU time and peak RSS of
// each process.
//
//	go run ./bench/runonce -sources 2000 -items 50 -rules 1000
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wirewatch/wirewatch/bench/internal/feedbench"
)

func main() {
	nSources := flag.Int("sources", 2000, "number of feeds")
	nItems := flag.Int("items", 50, "items per feed")
	nRules := flag.Int("rules", 1000, "number of rules")
	concurrency := flag.Int("concurrency", 8, "[fetch] concurrency")
	perHost := flag.Int("per-host", 0, "[fetch] per_host (0: the concurrency; every feed is on one host)")
	corpus := flag.String("corpus", "../shared/corpus/news/huffpost_news_category_v3_head9999.jsonl", "headlines (JSON Lines)")
	bin := flag.String("bin", "", "the wirewatch binary (default: build ./cmd/wirewatch)")
	keep := flag.Bool("keep", false, "keep the temporary folder (database, config, alerts)")
	flag.Parse()
	if *perHost == 0 {
		*perHost = *concurrency
	}

	headlines, err := feedbench.ReadHeadlines(*corpus)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "wirewatch-runonce")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		defer fmt.Println("kept", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if *bin == "" {
		*bin = filepath.Join(dir, "wirewatch")
		if out, err := exec.Command("go", "build", "-o", *bin, "./cmd/wirewatch").CombinedOutput(); err != nil {
			log.Fatalf("go build: %v\n%s", err, out)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(feedbench.Serve(ln, headlines, *nItems)) }()
	base := "http://" + ln.Addr().String()

	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[storage]\npath = %q\n\n[fetch]\nconcurrency = %d\nper_host = %d\n\n[http]\nlisten = \"\"\n\n",
		filepath.Join(dir, "wirewatch.db"), *concurrency, *perHost)
	fmt.Fprintf(&cfg, "[[notifiers]]\nname = \"console\"\ntype = \"console\"\npath = %q\n\n", filepath.Join(dir, "alerts.jsonl"))
	for i := range *nSources {
		fmt.Fprintf(&cfg, "[[sources]]\nname = \"feed-%04d\"\nurl = \"%s/feed/%d\"\n\n", i, base, i)
	}
	for _, r := range feedbench.Rules(headlines, *nRules, "console") {
		fmt.Fprintf(&cfg, "[[rules]]\nname = %q\nquery = %q\nnotify = [\"console\"]\n\n", r.Name, r.Query)
	}
	cfgPath := filepath.Join(dir, "wirewatch.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("binary %s\nsources=%d items=%d rules=%d concurrency=%d per_host=%d\n", *bin, *nSources, *nItems, *nRules, *concurrency, *perHost)
	for _, round := range []string{"first (backlog)", "changed (all new)", "unchanged (304)"} {
		cmd := exec.Command(*bin, "run", "--once", "--config", cfgPath, "--log-level", "error")
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			log.Fatalf("%s: %v", round, err)
		}
		fmt.Printf("%-18s wall %6.2fs  cpu %6.2fs  peak RSS %4d MB  exit %d\n", round, wall.Seconds(),
			cpu(cmd.ProcessState).Seconds(), peakRSS(cmd.ProcessState)>>20, cmd.ProcessState.ExitCode())
	}
	startUp(*bin, dir, cfgPath)
}

// startUp starts `wirewatch run` on the database the polls left and times
// how long /healthz takes to answer, then stops it.
func startUp(bin, dir, cfgPath string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	listening := filepath.Join(dir, "listening.toml")
	if err := os.WriteFile(listening, []byte(strings.Replace(string(data), `listen = ""`, fmt.Sprintf("listen = %q", addr), 1)), 0o600); err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", listening, "--log-level", "error")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > time.Minute {
			cmd.Process.Kill()
			log.Fatal("/healthz did not answer within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ready := time.Since(start)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	fmt.Printf("%-18s %6.3fs to /healthz 200 on the database the polls left\n", "start-up", ready.Seconds())
}

func cpu(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }

func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}

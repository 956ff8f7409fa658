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
// With -postgres the store is a new PostgreSQL database on that server
// (dropped at the end) and each round runs -replicas processes at once on
// it, sharing the sources through the store's claims; then the CPU that the
// server's processes used in the round is printed too.
//
//	go run ./bench/runonce -sources 2000 -items 50 -rules 1000
//	go run ./bench/runonce -postgres postgres://postgres@127.0.0.1:5432/postgres -replicas 3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
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
	pgBase := flag.String("postgres", "", "a PostgreSQL server's URL: store in a new database there instead of SQLite")
	replicas := flag.Int("replicas", 1, "processes per round, sharing the work (with -postgres)")
	flag.Parse()
	if *replicas < 1 || (*replicas > 1 && *pgBase == "") {
		log.Fatal("-replicas: at least 1, and more than 1 only with -postgres")
	}
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

	storage := fmt.Sprintf("path = %q", filepath.Join(dir, "wirewatch.db"))
	if *pgBase != "" {
		dbURL, drop, err := newDatabase(*pgBase)
		if err != nil {
			log.Fatal(err)
		}
		defer drop()
		storage = fmt.Sprintf("url = %q", dbURL)
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[storage]\n%s\n\n[fetch]\nconcurrency = %d\nper_host = %d\n\n[http]\nlisten = \"\"\n\n",
		storage, *concurrency, *perHost)
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

	store := "SQLite"
	if *pgBase != "" {
		store = "PostgreSQL"
	}
	fmt.Printf("binary %s\nstore=%s replicas=%d sources=%d items=%d rules=%d concurrency=%d per_host=%d\n",
		*bin, store, *replicas, *nSources, *nItems, *nRules, *concurrency, *perHost)
	for _, round := range []string{"first (backlog)", "changed (all new)", "unchanged (304)"} {
		serverCPU := postgresCPU()
		cmds := make([]*exec.Cmd, *replicas)
		start := time.Now()
		for i := range cmds {
			cmds[i] = exec.Command(*bin, "run", "--once", "--config", cfgPath, "--log-level", "error")
			cmds[i].Dir = dir
			cmds[i].Stderr = os.Stderr
			if err := cmds[i].Start(); err != nil {
				log.Fatalf("%s: %v", round, err)
			}
		}
		var total time.Duration
		var peak int64
		exits := make([]int, len(cmds))
		for i, cmd := range cmds {
			err := cmd.Wait()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				log.Fatalf("%s: %v", round, err)
			}
			total += cpu(cmd.ProcessState)
			peak = max(peak, peakRSS(cmd.ProcessState))
			exits[i] = cmd.ProcessState.ExitCode()
		}
		wall := time.Since(start)
		line := fmt.Sprintf("%-18s wall %6.2fs  cpu %6.2fs  peak RSS %4d MB  exit %v", round, wall.Seconds(),
			total.Seconds(), peak>>20, exits)
		if *pgBase != "" {
			line += fmt.Sprintf("  PostgreSQL cpu %6.2fs", (postgresCPU() - serverCPU).Seconds())
		}
		fmt.Println(line)
	}
	startUp(*bin, dir, cfgPath)
}

// newDatabase makes a new database on the PostgreSQL server at base and
// returns its URL and a function that drops it.
func newDatabase(base string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %w", err)
	}
	name := fmt.Sprintf("wirewatch_runonce_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
		conn.Close(ctx)
	}, nil
}

// postgresCPU is the CPU time used so far by every process of this machine
// named postgres (the server and its backends), read from /proc: each
// one's own time plus that of its children that ended (the postmaster's
// count for backends that closed).
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var ticks int64
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 15 {
			continue
		}
		for _, field := range f[11:15] { // utime, stime, cutime, cstime
			n, _ := strconv.ParseInt(field, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / 100
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

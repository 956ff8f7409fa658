package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store/postgres/pgtest"
)

// hook records every payload a webhook target gets, with its
// Idempotency-Key; hold, when set, keeps the requests it picks waiting
// until release is closed.
type hook struct {
	hold    func(p notifiers.Payload) bool
	release chan struct{}
	held    chan struct{}

	mu   sync.Mutex
	got  []received
	news chan struct{}
}

type received struct {
	p   notifiers.Payload
	key string
}

func newHook() *hook {
	return &hook{release: make(chan struct{}), held: make(chan struct{}, 16), news: make(chan struct{}, 1)}
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p notifiers.Payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if h.hold != nil && h.hold(p) {
		h.held <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		}
	}
	h.mu.Lock()
	h.got = append(h.got, received{p, r.Header.Get("Idempotency-Key")})
	h.mu.Unlock()
	select {
	case h.news <- struct{}{}:
	default:
	}
}

// payloads returns what arrived so far.
func (h *hook) payloads() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// wait waits, until ctx ends, for cond to hold over what arrived.
func (h *hook) wait(ctx context.Context, cond func([]received) bool) bool {
	for !cond(h.payloads()) {
		select {
		case <-h.news:
		case <-ctx.Done():
			return cond(h.payloads())
		}
	}
	return true
}

// cluster is a set of replicas of the built binary on one PostgreSQL
// schema, each with its HTTP server on a port of its own.
type cluster struct {
	t      *testing.T
	bin    string
	dir    string
	dbURL  string
	config string // the [[sources]], [[notifiers]] and [[rules]] part
	extra  string // more [storage] lines

	mu    sync.Mutex
	procs []*replica
}

type replica struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
}

func newCluster(t *testing.T, dbURL, config string) *cluster {
	t.Helper()
	return &cluster{t: t, bin: sharedBinary(t), dir: t.TempDir(), dbURL: dbURL, config: config}
}

// start starts one more replica and returns it once its /healthz answers.
func (c *cluster) start() *replica {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf("[storage]\nurl = %q\nlease = \"3s\"\n%s\n[http]\nlisten = %q\n\n%s", c.dbURL, c.extra, addr, c.config)
	path := filepath.Join(c.dir, "replica-"+strings.ReplaceAll(addr, ":", "-")+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "run", "--config", path)
	cmd.Dir = c.dir
	r := &replica{cmd: cmd, addr: addr, logs: &syncBuffer{}}
	cmd.Stderr = r.logs
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.procs = append(c.procs, r)
	c.mu.Unlock()
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if c.t.Failed() {
			c.t.Logf("replica %s (pid %d) logs:\n%s", addr, cmd.Process.Pid, r.logs.String())
		}
	})
	return r
}

// healthy waits until the replica's /healthz answers 200.
func (c *cluster) healthy(r *replica) {
	c.t.Helper()
	eventually(c.t, 30*time.Second, "replica "+r.addr+" answers /healthz", func() bool {
		resp, err := http.Get("http://" + r.addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// db runs a query against the replicas' schema.
func (c *cluster) db(sql string, args []any, dest ...any) {
	c.t.Helper()
	conn, err := pgx.Connect(context.Background(), c.dbURL)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(dest...); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// dump logs what the store holds of sources, lanes, deliveries and the
// replicas' database sessions, for a failed test.
func (c *cluster) dump() {
	c.t.Helper()
	conn, err := pgx.Connect(context.Background(), c.dbURL)
	if err != nil {
		c.t.Logf("dump: %v", err)
		return
	}
	defer conn.Close(context.Background())
	for _, q := range []string{
		`SELECT id, name, next_fetch, now_ms(), lease_owner, lease_until, last_fetch, last_error, failures FROM sources`,
		`SELECT target, lease_owner, lease_until, hold_until, hold_reason, last_error FROM lanes`,
		`SELECT id, status, kind, attempts, next_attempt, waiting, last_error FROM deliveries ORDER BY id`,
		`SELECT pid, state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
	} {
		rows, err := conn.Query(context.Background(), q)
		if err != nil {
			c.t.Logf("dump %s: %v", q, err)
			continue
		}
		for rows.Next() {
			vals, _ := rows.Values()
			c.t.Logf("%s: %v", q[:30], vals)
		}
		rows.Close()
	}
}

// laneHolder returns the pid of the replica holding a target's queue now.
func (c *cluster) laneHolder(target string) int {
	c.t.Helper()
	var owner string
	c.db(`SELECT lease_owner FROM lanes WHERE target = $1`, []any{target}, &owner)
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		c.t.Fatalf("lane owner %q is not host/pid/suffix", owner)
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil {
		c.t.Fatal(err)
	}
	return pid
}

// writeFeed writes an RSS file of items (guid, title, summary).
func writeFeed(t *testing.T, path string, items [][3]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>replicas</title>`)
	for i, it := range items {
		fmt.Fprintf(&b, `<item><guid>%s</guid><title>%s</title><description>%s</description><link>https://news.example/%s</link><pubDate>%s</pubDate></item>`,
			it[0], it[1], it[2], it[0], time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// event is one story as four outlets carry it, word for word.
var event = [3]string{"", "Nvidia wins China export licence for H20 chips after months of talks",
	"The US commerce department granted Nvidia a licence to ship its H20 accelerators to customers in China, the company said on Thursday, ending months of talks."}

// TestReplicasShareTheWork: three replicas started at once on an empty
// database migrate once and sync the configuration once; the same event from
// four feeds, fetched by whichever replicas claim them, gives one alert and
// three follow-ups in one cluster; a per-minute digest goes out once per
// period; a rule added through one replica's API is matched whichever
// replica fetches next.
func TestReplicasShareTheWork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas for about three minutes")
	}
	dbURL := pgtest.URL(t)
	t.Parallel()
	h := newHook()
	srv := httptest.NewServer(h)
	defer srv.Close()
	dir := t.TempDir()
	var cfg strings.Builder
	for i := range 4 {
		path := filepath.Join(dir, fmt.Sprintf("outlet-%d.xml", i))
		writeFeed(t, path, [][3]string{{fmt.Sprintf("outlet%d-event", i), event[1], event[2]}})
		fmt.Fprintf(&cfg, "[[sources]]\nname = \"Outlet %d\"\nurl = \"file://%s\"\nbackfill = 5\n\n", i, path)
	}
	fmt.Fprintf(&cfg, "[[notifiers]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"%s/alerts\"\nmax_per_hour = 1000\n\n", srv.URL)
	cfg.WriteString("[[rules]]\nname = \"nvidia-china\"\nquery = \"nvidia china\"\nnotify = [\"hook\"]\n\n")
	cfg.WriteString("[[rules]]\nname = \"chips-minutely\"\nquery = \"nvidia\"\nnotify = [\"hook\"]\ndigest = \"* * * * *\"\n\n")
	c := newCluster(t, dbURL, cfg.String())
	replicas := []*replica{c.start(), c.start(), c.start()}
	for _, r := range replicas {
		c.healthy(r)
	}
	var schemaRows, sourcesN, rulesN, counter int
	c.db(`SELECT (SELECT COUNT(*) FROM wirewatch_schema), (SELECT COUNT(*) FROM sources), (SELECT COUNT(*) FROM rules),
	       (SELECT value FROM counters WHERE name = 'rules')`, nil, &schemaRows, &sourcesN, &rulesN, &counter)
	if schemaRows != 1 || sourcesN != 4 || rulesN != 2 || counter != 3 {
		t.Errorf("after three replicas started at once: schema rows %d, sources %d, rules %d, rules counter %d; want 1, 4, 2 and 3 (one sync, two inserts)",
			schemaRows, sourcesN, rulesN, counter)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	instant := func(ps []received) (alerts, followUps []notifiers.Payload) {
		for _, r := range ps {
			switch {
			case r.p.Kind == "":
				alerts = append(alerts, r.p)
			case r.p.Kind == "follow_up":
				followUps = append(followUps, r.p)
			}
		}
		return alerts, followUps
	}
	if !h.wait(ctx, func(ps []received) bool { a, f := instant(ps); return len(a)+len(f) >= 4 }) {
		t.Fatalf("the event's four copies did not all arrive: %+v", h.payloads())
	}
	alerts, followUps := instant(h.payloads())
	if len(alerts) != 1 || len(followUps) != 3 {
		t.Errorf("the event from four feeds: %d alerts and %d follow-ups, want 1 and 3", len(alerts), len(followUps))
	}
	clusters := map[string]bool{}
	for _, p := range append(alerts, followUps...) {
		clusters[p.Cluster] = true
	}
	if len(clusters) != 1 {
		t.Errorf("the event's copies are in %d clusters, want one: %v", len(clusters), clusters)
	}

	// A rule added through one replica's API is in force in every replica:
	// each outlet gets a story of its own, fetched by whoever claims it.
	body := `{"name": "walrus", "query": "walrus", "notify": ["hook"]}`
	resp, err := http.Post("http://"+replicas[0].addr+"/api/v1/rules", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("add rule through replica 0: %d %s", resp.StatusCode, b)
	}
	eventually(t, 10*time.Second, "every replica knows the new rule", func() bool {
		for _, r := range replicas {
			resp, err := http.Get("http://" + r.addr + "/api/v1/rules")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(b, []byte(`"walrus"`)) {
				return false
			}
		}
		return true
	})
	// Every replica's rule set takes it up (it wakes on the notification,
	// and polls every 2 s); then each outlet is made due.
	eventually(t, 15*time.Second, "every replica has three rules in force", func() bool {
		for _, r := range replicas {
			resp, err := http.Get("http://" + r.addr + "/metrics")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(b, []byte("\nwirewatch_rules 3\n")) {
				return false
			}
		}
		return true
	})
	for i := range 4 {
		writeFeed(t, filepath.Join(dir, fmt.Sprintf("outlet-%d.xml", i)), [][3]string{
			{fmt.Sprintf("outlet%d-event", i), event[1], event[2]},
			{fmt.Sprintf("outlet%d-walrus", i), fmt.Sprintf("Walrus number %d hauls out on a beach in outlet %d's town", i, i),
				fmt.Sprintf("A different walrus, the %dth this season, was seen resting on the sand.", i)},
		})
		resp, err := http.Post(fmt.Sprintf("http://%s/api/v1/sources/%d/check", replicas[i%3].addr, i+1), "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	walruses := func(ps []received) int {
		n := 0
		for _, r := range ps {
			if r.p.Story != nil && strings.Contains(r.p.Story.Title, "Walrus") {
				n++
			}
		}
		return n
	}
	if !h.wait(ctx, func(ps []received) bool { return walruses(ps) >= 4 }) {
		t.Fatalf("walrus stories alerted: %d of 4", walruses(h.payloads()))
	}

	// The per-minute digest: once per period, whichever replica looks.
	digests := func(ps []received) map[string]int {
		out := map[string]int{}
		for _, r := range ps {
			if r.p.Kind == "digest" {
				out[r.key]++
			}
		}
		return out
	}
	if !h.wait(ctx, func(ps []received) bool { return len(digests(ps)) >= 1 }) {
		t.Fatal("no digest within four minutes")
	}
	var sent, periods int
	c.db(`SELECT COUNT(*), COUNT(DISTINCT dedup_key) FROM deliveries WHERE kind = 'digest'`, nil, &sent, &periods)
	if sent != periods {
		t.Errorf("%d digest rows for %d periods; want one per period", sent, periods)
	}
	for key, n := range digests(h.payloads()) {
		if n > 1 {
			t.Errorf("digest %s arrived %d times", key, n)
		}
	}
}

// TestReplicaKilledMidDelivery: the replica holding a target's queue is
// killed mid-delivery; the others finish it. Every alert arrives; only the
// send in flight may repeat, with its key.
func TestReplicaKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas")
	}
	dbURL := pgtest.URL(t)
	t.Parallel()
	const n = 60
	recv := newReceiver()
	recv.delay = 30 * time.Millisecond
	srv := httptest.NewServer(recv)
	defer srv.Close()
	c := newCluster(t, dbURL, leaseConfig(t, n, srv.URL))
	for range 3 {
		c.start()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n/4 }) {
		t.Fatal("no alerts before the kill")
	}
	pid := c.laneHolder("hook")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the lane holder %d: %v", pid, err)
	}
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n }) {
		t.Fatalf("%d of %d alerts arrived after the holder was killed", recv.distinct(), n)
	}
	dups, sameKey := recv.repeats()
	if len(dups) > 1 || !sameKey {
		t.Errorf("repeated stories %v (same key %v); at most the send in flight may repeat, with its key", dups, sameKey)
	}
}

// TestReplicaStoppedPastLease: the lane holder is stopped (SIGSTOP) in the
// middle of a send and past its lease; another replica takes the queue
// over and sends it; woken (SIGCONT), the stopped one's outcome is refused.
func TestReplicaStoppedPastLease(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas")
	}
	dbURL := pgtest.URL(t)
	t.Parallel()
	const n = 8
	recv := newReceiver()
	recv.hold = func(k int) bool { return k == 1 }
	srv := httptest.NewServer(recv)
	defer srv.Close()
	c := newCluster(t, dbURL, leaseConfig(t, n, srv.URL))
	for range 3 {
		c.start()
	}
	select {
	case <-recv.held:
	case <-time.After(60 * time.Second):
		t.Fatal("nothing was sent")
	}
	pid := c.laneHolder("hook")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n }) {
		t.Fatalf("%d of %d alerts arrived while the holder was stopped", recv.distinct(), n)
	}
	close(recv.release)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var stopped *replica
	for _, r := range c.procs {
		if r.cmd.Process.Pid == pid {
			stopped = r
		}
	}
	eventually(t, 20*time.Second, "the woken replica learns it lost the lease", func() bool {
		return strings.Contains(stopped.logs.String(), "another worker took the target's queue over")
	})
	dups, sameKey := recv.repeats()
	if len(dups) > 1 || !sameKey {
		t.Errorf("repeated stories %v (same key %v); only the send in flight may repeat, with its key", dups, sameKey)
	}
	var notOnce int
	c.db(`SELECT COUNT(*) FROM deliveries WHERE status <> 'sent' OR attempts <> 1`, nil, &notOnce)
	if notOnce != 0 {
		t.Errorf("%d deliveries not sent exactly once by the replica that took over", notOnce)
	}
}

// TestReplicasSurviveDatabaseOutage: the replicas reach PostgreSQL through
// a proxy that cuts every connection for 30 s; stories that arrive before
// and during the cut are all delivered once it ends.
func TestReplicasSurviveDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("cuts the database for 30 s")
	}
	dbURL := pgtest.URL(t)
	t.Parallel()
	proxy := newCutProxy(t, "127.0.0.1:5432")
	proxied := strings.Replace(dbURL, "127.0.0.1:5432", proxy.addr(), 1)
	recv := newReceiver()
	srv := httptest.NewServer(recv)
	defer srv.Close()
	dir := t.TempDir()
	feed := filepath.Join(dir, "feed.xml")
	items := [][3]string{{"before-1", "Nvidia China story before the cut", "one"}}
	writeFeed(t, feed, items)
	cfg := fmt.Sprintf("[[sources]]\nname = \"Feed\"\nurl = \"file://%s\"\nbackfill = 100\ninterval = \"2s\"\n\n"+
		"[[notifiers]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"%s/alerts\"\nmax_per_hour = 1000\n\n"+
		"[[rules]]\nname = \"r\"\nquery = \"nvidia china\"\nnotify = [\"hook\"]\n", feed, srv.URL)
	c := newCluster(t, proxied, cfg)
	for range 3 {
		c.healthy(c.start())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= 1 }) {
		t.Fatal("nothing before the cut")
	}
	proxy.cut()
	for i := range 5 {
		items = append(items, [3]string{fmt.Sprintf("during-%d", i), fmt.Sprintf("Nvidia China story %d during the cut", i), "two"})
		writeFeed(t, feed, items)
	}
	time.Sleep(30 * time.Second) // the outage itself
	proxy.restore()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= len(items) }) {
		c.dump()
		t.Fatalf("%d of %d alerts arrived after the database came back", recv.distinct(), len(items))
	}
	if dups, _ := recv.repeats(); len(dups) > 3 {
		t.Errorf("stories repeated after the outage: %v", dups)
	}
	for _, r := range c.procs {
		if r.cmd.ProcessState != nil {
			t.Errorf("replica %s exited during the outage", r.addr)
		}
	}
}

// leaseConfig is a feed of n matching stories for a webhook at url.
func leaseConfig(t *testing.T, n int, url string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "feed.xml")
	var items [][3]string
	for i := range n {
		items = append(items, [3]string{fmt.Sprintf("r-%d", i), fmt.Sprintf("Nvidia China story %d", i), fmt.Sprintf("Summary %d", i)})
	}
	writeFeed(t, path, items)
	return fmt.Sprintf("[[sources]]\nname = \"Feed\"\nurl = \"file://%s\"\nbackfill = %d\n\n"+
		"[[notifiers]]\nname = \"hook\"\ntype = \"webhook\"\nurl = \"%s/alerts\"\nmax_per_hour = 1000\n\n"+
		"[[rules]]\nname = \"r\"\nquery = \"nvidia china\"\nnotify = [\"hook\"]\n", path, n, url)
}

// cutProxy forwards TCP connections to a server until cut: then it closes
// every connection and refuses new ones until restored.
type cutProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{t: t, ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			in.Close()
			continue
		}
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

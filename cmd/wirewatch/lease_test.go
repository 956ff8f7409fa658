package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

var (
	builtOnce sync.Once
	builtBin  string
	builtErr  error
)

// sharedBinary compiles cmd/wirewatch once for every process test of the run.
func sharedBinary(t *testing.T) string {
	t.Helper()
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wirewatch-bin")
		if err != nil {
			builtErr = err
			return
		}
		builtBin = filepath.Join(dir, "wirewatch")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			builtErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtBin
}

// receiver records the alerts a webhook target gets: per story, how many
// times and under which Idempotency-Keys. hold, when set, decides for each
// request whether to keep it waiting until release is closed.
type receiver struct {
	delay   time.Duration // before answering
	hold    func(n int) bool
	release chan struct{}
	held    chan struct{} // a request is being held

	mu    sync.Mutex
	seen  map[string]int
	keys  map[string][]string
	total int
	got   chan struct{}
}

func newReceiver() *receiver {
	return &receiver{seen: map[string]int{}, keys: map[string][]string{}, got: make(chan struct{}, 1),
		release: make(chan struct{}), held: make(chan struct{}, 1)}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var p struct {
		Story struct{ ID string } `json:"story"`
	}
	if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	r.mu.Lock()
	r.total++
	n := r.total
	r.mu.Unlock()
	if r.hold != nil && r.hold(n) {
		r.held <- struct{}{}
		select {
		case <-r.release:
		case <-req.Context().Done():
			return
		}
	}
	if r.delay > 0 {
		select {
		case <-time.After(r.delay): // a slow receiver, by design
		case <-req.Context().Done():
			return
		}
	}
	r.mu.Lock()
	r.seen[p.Story.ID]++
	r.keys[p.Story.ID] = append(r.keys[p.Story.ID], req.Header.Get("Idempotency-Key"))
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
}

func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// waitFor polls cond each time an alert is recorded, until ctx ends.
func (r *receiver) waitFor(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-r.got:
		case <-ctx.Done():
			return cond()
		}
	}
	return true
}

// repeats returns the stories received more than once, and whether every
// repeat carried its first Idempotency-Key.
func (r *receiver) repeats() (ids []string, sameKey bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sameKey = true
	for id, n := range r.seen {
		if n > 1 {
			ids = append(ids, id)
		}
		for _, k := range r.keys[id] {
			if k != r.keys[id][0] {
				sameKey = false
			}
		}
	}
	return ids, sameKey
}

// syncBuffer is a process's stderr, readable while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setup is a feed of n matching stories, a webhook receiver, and a config
// with extra lines in [storage].
type setup struct {
	t       *testing.T
	bin     string
	dir     string
	cfgPath string
	dbPath  string
}

func newSetup(t *testing.T, n int, recv http.Handler, storage string) *setup {
	t.Helper()
	s := &setup{t: t, bin: sharedBinary(t), dir: t.TempDir()}
	var feed strings.Builder
	feed.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>leases</title>`)
	for i := range n {
		fmt.Fprintf(&feed, `<item><guid>l-%d</guid><title>Nvidia China story %d</title><link>https://news.example/l/%d</link><pubDate>%s</pubDate></item>`,
			i, i, i, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second).Format(time.RFC1123Z))
	}
	feed.WriteString(`</channel></rss>`)
	feedPath := filepath.Join(s.dir, "feed.xml")
	if err := os.WriteFile(feedPath, []byte(feed.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	s.dbPath = filepath.Join(s.dir, "wirewatch.db")
	cfg := fmt.Sprintf(`
[storage]
path = %q
%s
[http]
listen = ""
[[sources]]
name = "Lease feed"
url = "file://%s"
backfill = %d
[[notifiers]]
name = "hook"
type = "webhook"
url = "%s/alerts"
max_per_hour = 1000
[[rules]]
name = "nvidia-china"
query = "nvidia china"
notify = ["hook"]
`, s.dbPath, storage, feedPath, n, srv.URL)
	s.cfgPath = filepath.Join(s.dir, "wirewatch.toml")
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// start runs `wirewatch run` on the setup; its stderr is kept.
func (s *setup) start() (*exec.Cmd, *syncBuffer) {
	s.t.Helper()
	cmd := exec.Command(s.bin, "run", "--config", s.cfgPath)
	cmd.Dir = s.dir
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if s.t.Failed() {
			s.t.Logf("process %d logs:\n%s", cmd.Process.Pid, logs.String())
		}
	})
	return cmd, logs
}

// deliveries reads the delivery log through a store handle of its own.
func (s *setup) deliveries() []store.Delivery {
	s.t.Helper()
	st, err := sqlite.Open(context.Background(), s.dbPath)
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.Deliveries(context.Background(), store.DeliveryQuery{Limit: 10_000})
	if err != nil {
		s.t.Fatal(err)
	}
	return ds
}

// eventually polls cond every 20 ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoProcessesOneFileSendOnce: two processes on one SQLite file share the
// work through the store's claims; one is killed mid-delivery. Every alert
// arrives, and only a send in flight at the kill may repeat, with its key.
func TestTwoProcessesOneFileSendOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	const n = 120
	recv := newReceiver()
	recv.delay = 10 * time.Millisecond
	s := newSetup(t, n, recv, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, _ := s.start()
	b, _ := s.start()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n/4 }) {
		t.Fatal("no alerts before the kill")
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n }) {
		t.Fatalf("%d of %d stories arrived after one of two processes was killed", recv.distinct(), n)
	}
	_ = b.Process.Signal(syscall.SIGTERM)
	_ = b.Wait()
	dups, sameKey := recv.repeats()
	if len(dups) > 1 || !sameKey {
		t.Errorf("repeated stories %v (same key %v); at most the one send in flight at the kill may repeat, with its key", dups, sameKey)
	}
	sent := 0
	for _, d := range s.deliveries() {
		if d.Status == store.StatusSent {
			sent++
		}
		if d.Status == store.StatusDuplicate || d.Attempts > 1 {
			t.Errorf("delivery %d: %s after %d attempts; want each sent once", d.ID, d.Status, d.Attempts)
		}
	}
	if sent != n {
		t.Errorf("%d deliveries recorded as sent, want %d", sent, n)
	}
}

// TestSlowReceiverGetsEachAlertOnce: a receiver that answers after 8 s gets
// each alert once; recording the outcome does not share the send's clock.
func TestSlowReceiverGetsEachAlertOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for 16 s")
	}
	const n = 2
	recv := newReceiver()
	recv.delay = 8 * time.Second
	s := newSetup(t, n, recv, "")
	s.start()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n }) {
		t.Fatalf("%d of %d alerts arrived", recv.distinct(), n)
	}
	eventually(t, 10*time.Second, "both recorded as sent", func() bool {
		sent := 0
		for _, d := range s.deliveries() {
			if d.Status == store.StatusSent && d.Attempts == 1 && d.LastError == "" {
				sent++
			}
		}
		return sent == n
	})
	if dups, _ := recv.repeats(); len(dups) > 0 {
		t.Errorf("stories sent again: %v", dups)
	}
}

// TestHangingReceiverCountsAttempts: a receiver that never answers costs
// attempts, each cut off and recorded with its error; the alert stays
// pending for the next try.
func TestHangingReceiverCountsAttempts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	recv := newReceiver()
	recv.hold = func(int) bool { return true } // never released
	recv.held = make(chan struct{}, 100)
	s := newSetup(t, 1, recv, `lease = "2s"`)
	s.start()
	eventually(t, 30*time.Second, "an attempt recorded with its error", func() bool {
		for _, d := range s.deliveries() {
			if d.Status == store.StatusPending && d.Attempts >= 1 && strings.Contains(d.LastError, "no answer within 1s") && d.Waiting != "" {
				return true
			}
		}
		return false
	})
}

// TestStoppedLeaseHolderCannotComplete: a process stopped (SIGSTOP) in the
// middle of a send, past its lease, finds on waking (SIGCONT) that another
// process took the queue over and sent it: its outcome is refused, it sends
// nothing more, and only the send that was in flight repeats, with its key.
func TestStoppedLeaseHolderCannotComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	const n = 5
	recv := newReceiver()
	recv.hold = func(k int) bool { return k == 1 } // hold the very first send
	s := newSetup(t, n, recv, `lease = "3s"`)
	a, aLogs := s.start()
	select {
	case <-recv.held:
	case <-time.After(30 * time.Second):
		t.Fatal("the first process never sent")
	}
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	s.start() // takes the queue over once the stopped process's lease runs out
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if !recv.waitFor(ctx, func() bool { return recv.distinct() >= n }) {
		t.Fatalf("%d of %d alerts arrived while the lease holder was stopped", recv.distinct(), n)
	}
	close(recv.release) // the held request answers 200 now
	if err := a.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the woken process learns it lost the lease", func() bool {
		return strings.Contains(aLogs.String(), "another worker took the target's queue over")
	})
	dups, sameKey := recv.repeats()
	if len(dups) > 1 || !sameKey {
		t.Errorf("repeated stories %v (same key %v); only the send in flight may repeat, with its key", dups, sameKey)
	}
	for _, d := range s.deliveries() {
		if d.Status != store.StatusSent || d.Attempts != 1 {
			t.Errorf("delivery %d: %s after %d attempts; want sent, once, by the process that took over", d.ID, d.Status, d.Attempts)
		}
	}
}

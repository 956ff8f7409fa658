package main

import (
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
)

// buildBinary compiles cmd/wirewatch once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wirewatch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// slowReceiver records alerts by story id, answering each after a pause so
// that a kill lands in the middle of delivery.
type slowReceiver struct {
	mu    sync.Mutex
	seen  map[string]int
	keys  map[string]string // story id → Idempotency-Key of its first delivery
	total int
	mixed int // repeats of a story under another Idempotency-Key
	got   chan struct{}
}

func (r *slowReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var p struct {
		Story struct{ ID string } `json:"story"`
	}
	if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	select {
	case <-time.After(15 * time.Millisecond): // a slow receiver, by design
	case <-req.Context().Done():
		return
	}
	key := req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	if first, ok := r.keys[p.Story.ID]; ok && first != key {
		r.mixed++
	} else if !ok {
		r.keys[p.Story.ID] = key
	}
	r.seen[p.Story.ID]++
	r.total++
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
}

func (r *slowReceiver) counts() (distinct, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen), r.total
}

// waitFor polls cond each time the receiver records an alert, until ctx ends.
func (r *slowReceiver) waitFor(ctx context.Context, cond func(distinct, total int) bool) bool {
	for {
		if cond(r.counts()) {
			return true
		}
		select {
		case <-r.got:
		case <-ctx.Done():
			return cond(r.counts())
		}
	}
}

func TestCrashMidDeliveryLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	const n = 200
	bin := buildBinary(t)
	dir := t.TempDir()

	var feed strings.Builder
	feed.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>crash</title>`)
	for i := range n {
		fmt.Fprintf(&feed, `<item><guid>c-%d</guid><title>Nvidia China story %d</title><link>https://news.example/c/%d</link><pubDate>%s</pubDate></item>`,
			i, i, i, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second).Format(time.RFC1123Z))
	}
	feed.WriteString(`</channel></rss>`)
	feedPath := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(feedPath, []byte(feed.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	recv := &slowReceiver{seen: map[string]int{}, keys: map[string]string{}, got: make(chan struct{}, 1)}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	cfg := fmt.Sprintf(`
[storage]
path = %q
[http]
listen = ""
[[sources]]
name = "Crash feed"
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
`, filepath.Join(dir, "wirewatch.db"), feedPath, n, srv.URL)
	cfgPath := filepath.Join(dir, "wirewatch.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "--config", cfgPath)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if !testing.Verbose() {
			cmd.Stdout, cmd.Stderr = nil, nil
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	first := start()
	if !recv.waitFor(ctx, func(d, _ int) bool { return d >= n/4 }) {
		first.Process.Kill()
		t.Fatal("no alerts arrived before the kill")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill, _ := recv.counts()

	second := start()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		_ = second.Wait()
	}()
	if !recv.waitFor(ctx, func(d, _ int) bool { return d >= n }) {
		d, _ := recv.counts()
		t.Fatalf("after restart %d of %d stories arrived", d, n)
	}
	distinct, total := recv.counts()
	t.Logf("killed after %d alerts; after restart %d distinct, %d received, %d duplicates", atKill, distinct, total, total-distinct)
	if total-distinct > 1 {
		t.Errorf("%d duplicates; at most the one send in flight at the kill may repeat", total-distinct)
	}
	recv.mu.Lock()
	mixed := recv.mixed
	recv.mu.Unlock()
	if mixed != 0 {
		t.Errorf("%d repeated sends carried a new Idempotency-Key; receivers could not drop them", mixed)
	}
}

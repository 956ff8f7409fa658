package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/story"
)

// The probes of issue 12 ("Hostile input and faults"), against the whole
// command: each once broke, and stays fixed. The packages hold the finer
// tests (rules, sources, store/sqlite, web, api, bot/slack, bot/discord).

// TestHostileRegexIsRefusedOrBounded: /[\p{L}\p{N}]{1000}x/ over a 3 MB story
// took 29 s; now the query is refused. 60 × /(x+x+)+y/ over it (47 s) run on
// capped text within a per-story budget (item 1).
func TestHostileRegexIsRefusedOrBounded(t *testing.T) {
	big := `{"id":"big","title":"walrus","content":"` + strings.Repeat("x", 3<<20) + `"}` + "\n"
	code, _, stderr := run(t, big, "match", "--query", `/[\p{L}\p{N}]{1000}x/`)
	if code != 2 || !strings.Contains(stderr, "regular expression too complex") {
		t.Errorf("exit %d, stderr %q; want 2 and too complex", code, stderr)
	}
	var rules strings.Builder
	for i := range 60 {
		fmt.Fprintf(&rules, "[[rules]]\nname = \"r%d\"\nquery = '/(x+x+)+y/'\n", i)
	}
	fmt.Fprintf(&rules, "[[rules]]\nname = \"plain\"\nquery = 'walrus'\n")
	code, out, stderr := run(t, big, "match", "--rules", writeFile(t, "rules.toml", rules.String()))
	if code != 0 || out != `{"story":"big","rule":"plain","terms":["walrus"]}`+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %.300s", code, out, stderr)
	}
}

// TestRunCapsHostileFeedsAndTokens: a 1 MB title reaches the webhook cut to
// story.TitleMax characters, of a 1,500-item feed at most 1,000 items are
// read (items 2 and 10: RTL overrides are gone too); a one-character token
// fails check (item 10); an emptied database file is refused, not started
// afresh (item 9).
func TestRunCapsHostileFeedsAndTokens(t *testing.T) {
	dir := t.TempDir()
	var feed strings.Builder
	feed.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>hostile</title>`)
	for i := range 1499 {
		fmt.Fprintf(&feed, `<item><guid>h-%d</guid><title>Seal story %d</title><pubDate>%s</pubDate></item>`,
			i, i, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	}
	fmt.Fprintf(&feed, `<item><guid>big</guid><title>Walrus &#x202E;gnp.exe %s</title><link>https://news.example/big</link><pubDate>%s</pubDate></item>`,
		strings.Repeat("walrus ", 150_000), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC).Format(time.RFC1123Z))
	feed.WriteString(`</channel></rss>`)
	feedPath := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(feedPath, []byte(feed.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		bodies [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()
	db := filepath.Join(dir, "wirewatch.db")
	cfg := writeFile(t, "wirewatch.toml", fmt.Sprintf(`
[storage]
path = %q
[http]
listen = ""
[[sources]]
name = "Hostile"
url = "file://%s"
backfill = 1
[[notifiers]]
name = "hook"
type = "webhook"
url = "%s/alerts"
[[rules]]
name = "walrus"
query = "walrus"
notify = ["hook"]
`, db, feedPath, srv.URL))
	if code, _, stderr := run(t, "", "run", "--once", "--config", cfg); code != 0 {
		t.Fatalf("run --once: exit %d: %s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("webhook got %d posts, want 1", len(bodies))
	}
	var p struct{ Story struct{ Title string } }
	if err := json.Unmarshal(bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(p.Story.Title); n > story.TitleMax || len(bodies[0]) > 16<<10 ||
		!strings.HasPrefix(p.Story.Title, "Walrus gnp.exe walrus") || !strings.HasSuffix(p.Story.Title, "…") {
		t.Errorf("webhook post of %d bytes, title of %d characters: %.60q", len(bodies[0]), n, p.Story.Title)
	}

	if err := os.Truncate(db, 0); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "", "run", "--once", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, "empty (0 bytes)") {
		t.Errorf("emptied database: exit %d, stderr %q", code, stderr)
	}
	if fi, err := os.Stat(db); err != nil || fi.Size() != 0 {
		t.Errorf("the emptied file was written to: %v, %v", fi, err)
	}

	short := writeFile(t, "short.toml", "[http]\ntokens = [\"x\"]\n")
	if code, _, stderr := run(t, "", "check", "--config", short); code != 2 || !strings.Contains(stderr, "too short") {
		t.Errorf("one-character token: exit %d, stderr %q", code, stderr)
	}
}

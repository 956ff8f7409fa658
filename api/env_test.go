package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
)

// now is the test clock.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type env struct {
	t   testing.TB
	st  *sqlite.Store
	rs  *bot.RuleSet
	svc *service.Service
	srv *httptest.Server
}

type envOpt struct {
	guarded bool                  // keep the private-address guard on
	targets service.TargetChecker // checks rules' targets; nil accepts any
}

func newEnv(t testing.TB, opt envOpt) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := sources.NewFetcher(sources.Options{Timeout: 5 * time.Second})
	t.Cleanup(f.Close)
	e := &env{t: t, st: st, rs: bot.NewRuleSet(st, slog.New(slog.DiscardHandler))}
	e.svc = service.New(service.Options{Store: st, Rules: e.rs, Fetcher: f,
		Now: func() time.Time { return now }, AllowPrivateAddresses: !opt.guarded, Targets: opt.targets})
	e.srv = httptest.NewServer(api.New(api.Options{Service: e.svc, Store: st}))
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request with a JSON body (nil: none) and decodes the JSON answer into out (nil: skip).
func (e *env) do(method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if b, ok := body.(string); ok {
		rd = bytes.NewBufferString(b)
	} else if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil && !strings.HasSuffix(path, "/import") {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if p, ok := out.(*api.Error); ok {
		*p = api.Error{}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: not JSON: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// configRules syncs rules as the configuration file would.
func (e *env) configRules(rules ...store.Rule) {
	e.t.Helper()
	for i := range rules {
		rules[i].Origin = store.OriginConfig
	}
	if err := e.st.SyncConfigRules(context.Background(), rules); err != nil {
		e.t.Fatal(err)
	}
	if err := e.rs.Reload(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// ingest stores stories, recording a match and a delivery to "console" per
// story and live rule that matches it.
func (e *env) ingest(sourceID int64, stories ...story.Story) {
	e.t.Helper()
	all, err := e.st.Rules(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	plan := storetest.EvalPlan(all, "console", now)
	for i := range stories {
		if stories[i].Fetched.IsZero() {
			stories[i].Fetched = now
		}
	}
	if _, err := e.st.Ingest(context.Background(), sourceID, stories, plan); err != nil {
		e.t.Fatal(err)
	}
}

// stories makes n stories with the title pattern, one per hour back from now.
func makeStories(prefix, title string, n int) []story.Story {
	out := make([]story.Story, n)
	for i := range out {
		out[i] = story.Story{ID: fmt.Sprintf("%s-%03d", prefix, i), Title: title, Source: "Wire",
			URL:       fmt.Sprintf("https://news.example/%s/%d", prefix, i),
			Published: now.Add(-time.Duration(i+1) * time.Hour)}
	}
	return out
}

// feedServer serves an RSS feed at /feed.xml and a 404 elsewhere.
func feedServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" && r.URL.Path != "/other.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Walrus Watch %s</title>`+
			`<item><guid>1</guid><title>Walrus spotted</title><link>https://example.com/1</link></item></channel></rss>`, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

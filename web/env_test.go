package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
	"github.com/wirewatch/wirewatch/web"
)

// now is the test clock.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// hostile is a story title written to break out of HTML.
const hostile = `<script>alert("pwned")</script><img src=x onerror=alert(1)> Walrus "quoted" & more`

type env struct {
	t     testing.TB
	st    *sqlite.Store
	rs    *bot.RuleSet
	svc   *service.Service
	srv   *httptest.Server
	feeds *httptest.Server
}

// newEnv serves the whole handler (dashboard, API, healthz) over a real
// SQLite store on 127.0.0.1, with the given tokens.
func newEnv(t testing.TB, tokens ...string) *env {
	t.Helper()
	return newEnvWith(t, func(o *web.Options) { o.Tokens = tokens })
}

// newEnvWith is newEnv with options changed by mod.
func newEnvWith(t testing.TB, mod func(*web.Options)) *env {
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
	e.svc = service.New(service.Options{Store: st, Rules: e.rs, Fetcher: f, Targets: testTargets(t),
		Now: func() time.Time { return now }, AllowPrivateAddresses: true})
	o := web.Options{Listen: "127.0.0.1:0", Store: st, Gatherer: prometheus.NewRegistry(),
		Service: e.svc, Logger: slog.New(slog.DiscardHandler),
		Routes: map[string]http.Handler{"POST /slack/commands": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		})}}
	mod(&o)
	h := web.Handler(o)
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.feeds = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Seal News</title>`+
			`<item><guid>1</guid><title>Seals everywhere</title><link>https://seal.example/1</link></item></channel></rss>`)
	}))
	t.Cleanup(e.feeds.Close)
	return e
}

// testTargets are the notifiers of the test configuration: a console, a
// webhook and a Slack bot whose targets need a channel.
func testTargets(t testing.TB) config.Targets {
	t.Helper()
	cfg, err := config.Parse("test.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "console"`, `type = "console"`,
		`[[notifiers]]`, `name = "hook"`, `type = "webhook"`, `url = "https://hook.example/"`,
		`[[notifiers]]`, `name = "team-slack"`, `type = "slack"`, `token = "xoxb-1"`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	return registry.Targets(cfg)
}

// request sends a request; headers are "Name: value" strings.
func (e *env) request(method, path, body string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if body != "" && req.Header.Get("Content-Type") == "" && strings.HasPrefix(path, "/api/") {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// form posts a form as a same-origin browser would.
func (e *env) form(path string, values url.Values, headers ...string) (*http.Response, string) {
	e.t.Helper()
	headers = append(headers, "Content-Type: application/x-www-form-urlencoded", "Sec-Fetch-Site: same-origin")
	return e.request("POST", path, values.Encode(), headers...)
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

// ingest stores stories, with a match and a pending delivery to "console"
// per live rule that matches.
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

// seed fills the store as a running bot would: a healthy and a failing
// source, a config rule, stories (one with a hostile title) and alerts,
// one of them failed.
func (e *env) seed() {
	e.t.Helper()
	ctx := context.Background()
	all, err := e.st.SyncConfigSources(ctx, []store.Source{
		{Name: "Wire", URL: "https://wire.example/rss", Origin: store.OriginConfig},
		{Name: "Flaky", URL: "https://flaky.example/rss", Origin: store.OriginConfig},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	wire, flaky := all[0], all[1]
	if err := e.st.SaveSourceState(ctx, wire.ID, store.SourceState{LastFetch: now.Add(-2 * time.Minute), LastSuccess: now.Add(-2 * time.Minute), LastStatus: 200, Primed: true, NextFetch: now.Add(3 * time.Minute)}, store.Lease{}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.SaveSourceState(ctx, flaky.ID, store.SourceState{LastFetch: now.Add(-time.Minute), LastStatus: 503,
		LastError: "fetch \"Flaky\": status 503", Failures: 4, FailingSince: now.Add(-3 * time.Hour), NextFetch: now.Add(20 * time.Minute)}, store.Lease{}); err != nil {
		e.t.Fatal(err)
	}
	e.configRules(store.Rule{Name: "nvidia-china", Query: `nvidia AND (china OR beijing) -"stock price"`, Notify: []string{"console"}},
		store.Rule{Name: "walrus-watch", Query: "walrus", Notify: []string{"console"}, Digest: "daily"})
	var stories []story.Story
	titles := []string{"Nvidia ships H20 chips to China", "Beijing weighs Nvidia export rules", "Nvidia stock price slips",
		"Walrus colony grows", "Chip export controls tighten"}
	for i := range 40 {
		stories = append(stories, story.Story{ID: fmt.Sprintf("s%02d", i), SourceID: wire.ID, Source: "Wire",
			Title: titles[i%len(titles)], Summary: "Analysts in China and Beijing watch the chip trade.",
			URL: fmt.Sprintf("https://wire.example/%d", i), Published: now.Add(-time.Duration(i*17) * time.Hour),
			Fetched: now.Add(-time.Duration(i*17) * time.Hour)})
	}
	stories = append(stories, story.Story{ID: "evil", SourceID: wire.ID, Source: "Wire", Title: hostile,
		Summary: `<b>bold</b> walrus summary`, URL: "javascript:alert(1)", Published: now.Add(-10 * time.Minute)})
	e.ingest(wire.ID, stories...)
	ds, err := e.st.Deliveries(ctx, store.DeliveryQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, d := range ds {
		switch {
		case i == 1:
			storetest.MarkFailed(e.t, e.st, d.ID, "webhook: status 500 Internal Server Error")
		case i > 2:
			storetest.MarkSent(e.t, e.st, d.ID, "ref", d.Created)
		}
	}
}

// failedAlert returns the id of the failed delivery that seed made.
func (e *env) failedAlert() int64 {
	e.t.Helper()
	ds, err := e.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusFailed, Limit: 10})
	if err != nil || len(ds) != 1 {
		e.t.Fatalf("failed deliveries: %v, %v", ds, err)
	}
	return ds[0].ID
}

package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers/registry"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/web"
)

// TestDashboardAnnouncesTheDigestTheBotSends holds the dashboard's next
// digests to the periods the bot closes, on one store and one clock, for
// digests set in the configuration file ("Daily"), through the service as
// chat and the API set them ("WEEKLY"), and in a rule's time zone. On
// Tuesday 2026-12-01 the dashboard once announced the daily digest for
// 12-02 00:00 and the weekly one for Sunday 00:00, while the bot sent them
// at 12-01 08:00 and Monday 12-07 08:00.
func TestDashboardAnnouncesTheDigestTheBotSends(t *testing.T) {
	ctx := context.Background()
	var clock atomic.Pointer[time.Time]
	set := func(at time.Time) { clock.Store(&at) }
	now := func() time.Time { return *clock.Load() }
	set(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)) // Monday, after the week's digests

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	rs := bot.NewRuleSet(st, log)
	svc := service.New(service.Options{Store: st, Rules: rs, Targets: testTargets(t), Now: now})
	srv := httptest.NewServer(web.Handler(web.Options{Listen: "127.0.0.1:0", Store: st,
		Gatherer: prometheus.NewRegistry(), Service: svc, Logger: log}))
	t.Cleanup(srv.Close)
	b := bot.New(bot.Options{Store: st, Rules: rs, Logger: log, Now: now})

	cfg, err := config.Parse("t.toml", []byte(strings.Join([]string{
		`[[notifiers]]`, `name = "console"`, `type = "console"`,
		`[[rules]]`, `name = "daily-file"`, `query = "walrus"`, `notify = ["console"]`, `digest = "Daily"`,
		`[[rules]]`, `name = "daily-berlin"`, `query = "walrus"`, `notify = ["console"]`, `digest = "daily"`,
		`timezone = "Europe/Berlin"`,
		`[[rules]]`, `name = "weekdays-new-york"`, `query = "walrus"`, `notify = ["console"]`,
		`digest = "0 9 * * 1-5"`, `timezone = "America/New_York"`,
	}, "\n")), nil, registry.ConfigTypes())
	if err != nil {
		t.Fatal(err)
	}
	var fromFile []store.Rule
	for _, r := range cfg.Rules {
		fromFile = append(fromFile, store.Rule{Name: r.Name, Query: r.Query, Notify: []string{"console"},
			Digest: r.Digest, Timezone: r.Timezone, Origin: store.OriginConfig})
	}
	if err := st.SyncConfigRules(ctx, fromFile); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddRule(ctx, store.Rule{Name: "weekly-api", Query: "walrus", Notify: []string{"console"},
		Digest: "WEEKLY"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	send := func() {
		t.Helper()
		if _, err := b.SendDueDigests(ctx); err != nil {
			t.Fatal(err)
		}
	}
	send() // each rule's first period starts now

	// The bot closes each period at the time the dashboard announced, not
	// before; the Tuesday pins the two digest words.
	set(time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC))
	send()
	announced := nextDigests(t, srv.URL)
	for _, want := range []struct {
		rule string
		at   time.Time
	}{ // in time order: closing one period moves the clock past the ones before
		{"daily-file", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"weekdays-new-york", time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)},
		{"daily-berlin", time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)},
		{"weekly-api", time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)},
	} {
		at, ok := announced[want.rule]
		if !ok || !at.Equal(want.at) {
			t.Fatalf("dashboard announces %s's digest at %s (listed %v), want %s", want.rule, at, ok, want.at)
		}
		last, err := st.DigestLast(ctx, want.rule)
		if err != nil {
			t.Fatal(err)
		}
		set(at.Add(-time.Second))
		send()
		if got, _ := st.DigestLast(ctx, want.rule); !got.Equal(last) {
			t.Errorf("%s: the bot closed a period at %s, before the announced %s", want.rule, got, at)
		}
		set(at.Add(2 * time.Minute))
		send()
		if got, _ := st.DigestLast(ctx, want.rule); !got.Equal(at) {
			t.Errorf("%s: the bot closed the period at %s, the dashboard announced %s", want.rule, got, at)
		}
	}
}

// nextRunRow is a row of the overview's next runs: when, and which digest.
var nextRunRow = regexp.MustCompile(`<time datetime="([^"]+)"[^>]*>[^<]*</time></td><td>digest: <a href="[^"]*">([^<]+)</a>`)

// nextDigests reads the overview page's next digests, by rule name.
func nextDigests(t *testing.T, base string) map[string]time.Time {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %s", resp.Status)
	}
	out := map[string]time.Time{}
	for _, m := range nextRunRow.FindAllStringSubmatch(string(b), -1) {
		at, err := time.Parse(time.RFC3339, m[1])
		if err != nil {
			t.Fatal(err)
		}
		out[m[2]] = at
	}
	return out
}

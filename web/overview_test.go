package web

import (
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// TestNextRunsAnnounceWhatTheBotSends checks the dashboard's next digests
// against the bot's digest times (daily 08:00, weekly Monday 08:00, in the
// rule's time zone): on Tuesday 2026-12-01 it once announced 12-02 00:00 and
// Sunday 00:00 instead.
func TestNextRunsAnnounceWhatTheBotSends(t *testing.T) {
	now := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	rules := []store.Rule{
		{ID: 1, Name: "d", Digest: "daily"},
		{ID: 2, Name: "w", Digest: "weekly"},
		{ID: 3, Name: "b", Digest: "daily", Timezone: "Europe/Berlin"},
		{ID: 4, Name: "c", Digest: "0 9 * * 1-5", Timezone: "America/New_York"},
		{ID: 5, Name: "paused", Digest: "hourly", Paused: true},
		{ID: 6, Name: "instant"},
	}
	sources := []store.Source{{ID: 7, Name: "cron source", Schedule: "*/10 * * * *"}}
	unknown := func(store.Source) (time.Time, bool) { return time.Time{}, false }
	got := nextRuns(sources, rules, 5*time.Minute, unknown, now, 10)
	want := []struct {
		what, note string
		at         time.Time
	}{
		{"cron source", "schedule */10 * * * * (UTC)", time.Date(2026, 12, 1, 7, 10, 0, 0, time.UTC)},
		{"d", "digest daily (08:00 UTC)", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"c", "digest 0 9 * * 1-5 (America/New_York)", time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)},
		{"b", "digest daily (08:00 Europe/Berlin)", time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)},
		{"w", "digest weekly (Mondays 08:00 UTC)", time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d runs, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if g := got[i]; g.What != w.what || g.Note != w.note || !g.At.Equal(w.at) {
			t.Errorf("run %d: %s %q at %s, want %s %q at %s", i, g.What, g.Note, g.At.UTC(), w.what, w.note, w.at)
		}
	}
}

package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
)

func kinds(ps []notifiers.Payload) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		k := p.Kind
		if k == "" {
			k = "alert"
		}
		out[k]++
	}
	return out
}

func TestFloodLimitSendsThirtyAlertsAndOneSummary(t *testing.T) {
	h := newHarness(t)
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()
	for i := range 100 {
		h.feeds.add("/a", item{GUID: fmt.Sprintf("f%d", i), Title: fmt.Sprintf("Nvidia China story %d", i),
			Link: fmt.Sprintf("https://news.example/f/%d", i), Published: t0.Add(time.Duration(i) * time.Second)})
	}
	h.once()
	got := h.alerts()
	if k := kinds(got); k["alert"] != bot.DefaultMaxPerHour || k["summary"] != 1 || len(got) != bot.DefaultMaxPerHour+1 {
		t.Fatalf("got %v, want %d alerts and 1 summary", k, bot.DefaultMaxPerHour)
	}
	sum := got[len(got)-1]
	if sum.Total != 100-bot.DefaultMaxPerHour || len(sum.Stories) != 20 || sum.Rules[0] != "nvidia-china" {
		t.Errorf("summary: total %d, %d stories listed, rules %v; want total 70, 20 listed", sum.Total, len(sum.Stories), sum.Rules)
	}
	summarised, err := h.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusSummarised})
	if err != nil {
		t.Fatal(err)
	}
	if len(summarised) != 70 {
		t.Errorf("%d rows summarised, want 70", len(summarised))
	}

	// More matches within the same quarter hour wait for the next summary slot.
	h.feeds.add("/a", item{GUID: "late", Title: "Nvidia China late story", Link: "https://news.example/late", Published: t0.Add(time.Hour)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.bot.RunOnce(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n := len(h.alerts()); n != bot.DefaultMaxPerHour+1 {
		t.Errorf("a match past the limit went out at once (%d messages)", n)
	}
	if n, _ := h.st.OutboxDepth(context.Background()); n != 1 {
		t.Errorf("outbox depth %d, want the late match held for the next summary", n)
	}

	// A restart does not bring the next summary forward, not even for a
	// match that arrives after it.
	h.stop()
	h.start()
	h.feeds.add("/a", item{GUID: "after-restart", Title: "Nvidia China after the restart", Link: "https://news.example/ar", Published: t0.Add(2 * time.Hour)})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := h.bot.RunOnce(ctx2, 0); err != nil {
		t.Fatal(err)
	}
	if n := len(h.alerts()); n != bot.DefaultMaxPerHour+1 {
		t.Errorf("after a restart the held match went out at once (%d messages)", n)
	}
}

func TestFailingSourceGivesOneHealthAlertAndOneRecovery(t *testing.T) {
	h := newHarness(t)
	h.health = bot.Health{Notify: []string{"hook"}, After: 5}
	h.source("Flaky", "/flaky", 0)
	h.start()
	for range 7 {
		h.once()
	}
	got := h.alerts()
	if len(got) != 1 || got[0].Kind != store.KindHealth {
		t.Fatalf("after 7 failures: %v, want one health alert", kinds(got))
	}
	if !strings.Contains(got[0].Text, `"Flaky"`) || !strings.Contains(got[0].Text, "404") {
		t.Errorf("health text %q should name the source and the error", got[0].Text)
	}
	h.feeds.set("/flaky", item{GUID: "ok", Title: "Back", Link: "https://news.example/ok", Published: t0})
	h.once()
	h.once()
	got = h.alerts()
	if len(got) != 2 || got[1].Kind != store.KindHealth || !strings.Contains(got[1].Text, "recovered") {
		t.Fatalf("after recovery: %+v, want one recovery alert", got)
	}
}

func TestDailyDigestListsExactlyThePeriodsMatchesOnce(t *testing.T) {
	h := newHarness(t)
	h.clock = &clock{t: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)}
	h.rules = []store.Rule{{
		Name: "daily-chips", Query: `nvidia`, Notify: []string{"hook"}, Digest: "daily", Timezone: "UTC",
		Origin: store.OriginConfig,
	}}
	h.feeds.set("/a", item{GUID: "backlog", Title: "Nvidia backlog", Link: "https://news.example/b", Published: t0.Add(-48 * time.Hour)})
	h.source("Feed A", "/a", 0)
	h.start()
	h.once() // primes the source; the digest's first period starts when the rule was made (07:00)

	h.clock.Set(time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC))
	h.feeds.add("/a", item{GUID: "d1", Title: "Nvidia one", Link: "https://news.example/d1", Published: t0})
	h.feeds.add("/a", item{GUID: "d2", Title: "Nvidia two", Link: "https://news.example/d2", Published: t0.Add(time.Minute)})
	h.feeds.add("/a", item{GUID: "x", Title: "Unrelated", Link: "https://news.example/x", Published: t0})
	h.once()
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("a digest rule sent %d instant alerts", n)
	}

	h.clock.Set(time.Date(2026, 11, 28, 8, 0, 30, 0, time.UTC))
	h.feeds.add("/a", item{GUID: "d3", Title: "Nvidia three, after the tick", Link: "https://news.example/d3", Published: t0.Add(2 * time.Minute)})
	h.once()
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("the digest went out %d times before the minute of grace after the tick", n)
	}
	h.clock.Set(time.Date(2026, 11, 28, 8, 1, 30, 0, time.UTC))
	h.once()
	got := h.alerts()
	if len(got) != 1 || got[0].Kind != store.KindDigest {
		t.Fatalf("at 08:00: %v, want one digest", kinds(got))
	}
	var titles []string
	for _, s := range got[0].Stories {
		titles = append(titles, s.Title)
	}
	if strings.Join(titles, "|") != "Nvidia two|Nvidia one" {
		t.Errorf("digest lists %q, want the period's two matches, newest first", titles)
	}

	// A restart later that day sends nothing again; the next morning's digest
	// holds only the story that came after the tick.
	h.stop()
	h.start()
	h.clock.Set(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	h.once()
	if n := len(h.alerts()); n != 1 {
		t.Fatalf("restart repeated the digest: %d messages", n)
	}
	// The bot was down over the next two ticks: one digest at start, not two.
	h.clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))
	h.once()
	got = h.alerts()
	if len(got) != 2 || len(got[1].Stories) != 1 || got[1].Stories[0].Title != "Nvidia three, after the tick" {
		t.Fatalf("after two missed ticks: %d messages, last %+v; want one digest with the later story", len(got), got[len(got)-1])
	}
}

// TestDigestHoldsWhatMatchedBeforeItsFirstLook: a digest rule's first period
// starts when the rule was made, not when a worker first looks at digests,
// so stories matched in between (a replica that fetched first, a slow start)
// are in its first digest.
func TestDigestHoldsWhatMatchedBeforeItsFirstLook(t *testing.T) {
	h := newHarness(t)
	// Every reading of the clock moves it on: the match is stamped before
	// the run looks at digests.
	h.clock = &clock{t: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC), step: time.Millisecond}
	h.rules = []store.Rule{{
		Name: "hourly-chips", Query: `nvidia`, Notify: []string{"hook"}, Digest: "hourly", Timezone: "UTC",
		Origin: store.OriginConfig,
	}}
	h.feeds.set("/a", item{GUID: "early", Title: "Nvidia early", Link: "https://news.example/e", Published: t0})
	h.source("Feed A", "/a", 5)
	h.start()
	h.clock.Set(time.Date(2026, 11, 28, 7, 10, 0, 0, time.UTC))
	h.once()
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("a digest rule sent %d instant alerts", n)
	}
	h.clock.Set(time.Date(2026, 11, 28, 8, 1, 30, 0, time.UTC))
	h.once()
	got := h.alerts()
	if len(got) != 1 || got[0].Kind != store.KindDigest || len(got[0].Stories) != 1 || got[0].Stories[0].Title != "Nvidia early" {
		t.Fatalf("at 08:01: %v, want one digest listing the story matched before the first look", kinds(got))
	}
}

func TestOutageThenEverythingOnceWithinTheFloodLimit(t *testing.T) {
	h := newHarness(t)
	h.retryBase = 5 * time.Millisecond
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()

	// The receiver is down for its next 8 requests while 300 matches arrive
	// over three polls.
	h.hook.Fail(503, 8)
	for round := range 3 {
		for i := range 100 {
			n := round*100 + i
			h.feeds.add("/a", item{GUID: fmt.Sprintf("o%d", n), Title: fmt.Sprintf("Nvidia China outage story %d", n),
				Link: fmt.Sprintf("https://news.example/o/%d", n), Published: t0.Add(time.Duration(n) * time.Second)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := h.bot.RunOnce(ctx, 0); err != nil && !errors.Is(err, bot.ErrUndelivered) {
			t.Fatal(err)
		}
		cancel()
	}
	h.once() // the outage is over: retries and the summary go out, and the run reports success

	got := h.alerts()[8:] // past the eight refused requests
	seen := map[string]int{}
	for _, p := range got {
		if p.Story != nil {
			seen[p.Story.ID]++
		}
	}
	k := kinds(got)
	if k["alert"] != bot.DefaultMaxPerHour || k["summary"] != 1 {
		t.Fatalf("after the outage: %v, want %d alerts and one summary", k, bot.DefaultMaxPerHour)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("story %s alerted %d times", id, n)
		}
	}
	if sum := got[len(got)-1]; sum.Total != 300-bot.DefaultMaxPerHour {
		t.Errorf("summary stands for %d stories, want %d", sum.Total, 300-bot.DefaultMaxPerHour)
	}
	if n, _ := h.st.OutboxDepth(context.Background()); n != 0 {
		t.Errorf("%d deliveries still pending", n)
	}
	failed, _ := h.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusFailed})
	if len(failed) != 0 {
		t.Errorf("%d deliveries failed for good: %+v", len(failed), failed[0])
	}
}

package bot_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

// event is one news event as four outlets wrote it.
var event = []item{
	{GUID: "w1", Title: "Nvidia halts H20 chip sales to China after new US export rules",
		Description: "Nvidia said on Tuesday it would stop shipping its H20 accelerator to customers in China after the Commerce Department tightened export licensing requirements.",
		Link:        "https://wire.example/nvidia-h20", Published: t0},
	{GUID: "w2", Title: "Nvidia stops H20 chip sales to China after US export rules",
		Description: "Nvidia said on Tuesday it would stop shipping its H20 accelerator to customers in China after the Commerce Department tightened export licensing requirements, the company said.",
		Link:        "https://daily.example/tech/nvidia-stops-h20", Published: t0.Add(5 * time.Minute)},
	{GUID: "w3", Title: "UPDATE 1-Nvidia halts H20 chip sales to China after new US export rules",
		Description: "Nvidia said on Tuesday it would stop shipping its H20 accelerator to customers in China after the Commerce Department tightened export licensing.",
		Link:        "https://markets.example/update-1-nvidia", Published: t0.Add(9 * time.Minute)},
	{GUID: "w4", Title: "Nvidia halts sales of H20 chips to China after new US export rules",
		Description: "Nvidia said on Tuesday it would stop shipping its H20 accelerator to customers in China after the Commerce Department tightened export licensing requirements.",
		Link:        "https://asia.example/nvidia-h20-halt", Published: t0.Add(20 * time.Minute)},
}

func fourFeeds(h *harness) {
	for _, p := range []string{"/a", "/b", "/c", "/d"} {
		h.feeds.set(p)
		h.source("Outlet "+p[1:], p, 0)
	}
}

func TestSameEventFromFourFeedsIsOneAlertAndThreeFollowUps(t *testing.T) {
	h := newHarness(t)
	fourFeeds(h)
	h.start()
	h.once()
	for i, p := range []string{"/a", "/b", "/c", "/d"} {
		h.feeds.add(p, event[i])
		h.once()
	}
	got := h.alerts()
	if len(got) != 4 {
		t.Fatalf("got %d messages, want 1 alert + 3 follow-ups", len(got))
	}
	if got[0].FollowUp || got[0].Cluster == "" {
		t.Errorf("first message = %+v, want a plain alert with a cluster", got[0])
	}
	for _, p := range got[1:] {
		if !p.FollowUp || p.Kind != store.KindFollowUp || p.Cluster != got[0].Cluster {
			t.Errorf("later copy = kind %q follow_up %v cluster %q; want a follow-up in cluster %q", p.Kind, p.FollowUp, p.Cluster, got[0].Cluster)
		}
	}
}

// TestRewriteInOtherWordsIsAFollowUp: a second outlet that tells the event
// in its own words (few shared word pairs, the same names and numbers) is
// a follow-up of the first alert, and says what it shares; the store keeps
// that on the story. A story of another event that shares one name is not.
// rewriteInOtherWords sends an event, a rewrite of it in other words two
// hours later, and another event of the same company, one a fetch, and
// returns what the hook received.
func rewriteInOtherWords(h *harness) []notifiers.Payload {
	fourFeeds(h)
	h.start()
	h.once()
	h.feeds.add("/a", item{GUID: "r1", Title: "Nvidia to cut 1,150 jobs at its Shenzhen China design centre",
		Description: "Nvidia will cut about 1,150 jobs at its design centre in Shenzhen, China, by June, the chipmaker said on Tuesday, citing US export rules that halted sales of its H20 accelerator.",
		Link:        "https://wire.example/nvidia-shenzhen", Published: t0})
	h.once()
	h.feeds.add("/b", item{GUID: "r2", Title: "Shenzhen engineers brace for Nvidia layoffs as China sales dry up",
		Description: "Roughly 1,150 positions at the US chip giant's Shenzhen office will go before the summer, after Washington's licensing curbs stopped H20 shipments.",
		Link:        "https://daily.example/shenzhen-layoffs", Published: t0.Add(2 * time.Hour)})
	h.once()
	h.feeds.add("/c", item{GUID: "o1", Title: "Nvidia opens new China office in Beijing",
		Description: "Nvidia opened a sales office in Beijing on Wednesday, its third in the country.",
		Link:        "https://asia.example/nvidia-beijing", Published: t0.Add(3 * time.Hour)})
	h.once()
	return h.alerts()
}

func TestRewriteInOtherWordsIsAFollowUp(t *testing.T) {
	h := newHarness(t)
	got := rewriteInOtherWords(h)
	if len(got) != 3 {
		t.Fatalf("got %d messages (%v), want an alert, a follow-up and another alert", len(got), kinds(got))
	}
	if got[1].Kind != store.KindFollowUp || got[1].Cluster != got[0].Cluster {
		t.Errorf("rewrite: kind %q cluster %q; want a follow-up in cluster %q", got[1].Kind, got[1].Cluster, got[0].Cluster)
	}
	if !slices.Contains(got[1].Shared, "1,150") || !slices.Contains(got[1].Shared, "Shenzhen") {
		t.Errorf("rewrite shares %q, want 1,150 and Shenzhen among them", got[1].Shared)
	}
	if got[2].Kind != "" || got[2].Cluster == got[0].Cluster {
		t.Errorf("other event: kind %q cluster %q; want a plain alert of its own", got[2].Kind, got[2].Cluster)
	}
	st, err := h.st.Story(context.Background(), got[1].Story.ID)
	if err != nil || !slices.Equal(st.ClusterWhy, got[1].Shared) {
		t.Errorf("stored story: why %q, %v; want %q", st.ClusterWhy, err, got[1].Shared)
	}
}

// TestRewriteAlertsAgainWithoutFacts: with [cluster] by_facts = false a
// rewrite in other words is an event of its own.
func TestRewriteAlertsAgainWithoutFacts(t *testing.T) {
	h := newHarness(t)
	h.cluster = cluster.Options{FactsThreshold: -1}
	got := rewriteInOtherWords(h)
	if len(got) != 3 {
		t.Fatalf("got %d messages (%v), want three alerts", len(got), kinds(got))
	}
	for i, m := range got {
		if m.Kind != "" || i > 0 && m.Cluster == got[0].Cluster {
			t.Errorf("message %d: kind %q cluster %q; want an alert of its own", i, m.Kind, m.Cluster)
		}
	}
}

func TestFollowUpsNoneStaySilent(t *testing.T) {
	h := newHarness(t)
	h.rules[0].FollowUps = "none"
	fourFeeds(h)
	h.start()
	h.once()
	for i, p := range []string{"/a", "/b", "/c", "/d"} {
		h.feeds.add(p, event[i])
	}
	h.once()
	if got := h.alerts(); len(got) != 1 {
		t.Fatalf("got %d messages, want the first alert only", len(got))
	}
	folded, err := h.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusFolded})
	if err != nil {
		t.Fatal(err)
	}
	if len(folded) != 3 {
		t.Errorf("%d rows folded into the cluster, want 3", len(folded))
	}
}

func TestSurgeAlertsOnceAtTheThirdSource(t *testing.T) {
	h := newHarness(t)
	h.rules = []store.Rule{{Name: "breaking", Query: "nvidia china", Notify: []string{"hook"},
		MinSources: 3, Window: 2 * time.Hour, Origin: store.OriginConfig}}
	fourFeeds(h)
	h.start()
	h.once()
	h.feeds.add("/a", event[0])
	h.once()
	h.feeds.add("/b", event[1])
	h.once()
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("two sources gave %d alerts, want none", n)
	}
	h.feeds.add("/c", event[2])
	h.once()
	h.feeds.add("/d", event[3])
	h.once()
	got := h.alerts()
	if len(got) != 1 || got[0].Kind != store.KindSurge {
		t.Fatalf("after the 3rd and 4th source: %v, want one surge alert", kinds(got))
	}
	if want := "Carried by 3 sources within 2h0m0s: Outlet a, Outlet b, Outlet c"; got[0].Text != want {
		t.Errorf("surge text %q, want %q", got[0].Text, want)
	}
}

func TestFollowUpThreadsUnderTheAlertAfterARestart(t *testing.T) {
	fake := slackfake.New(t)
	fake.SetChannels(slackfake.Channel{ID: "C0POLICY", Name: "ai-policy"})
	sl, err := slack.New("team-slack", &slack.Config{Token: "xoxb-test", APIURL: fake.URL()},
		notifiers.Env{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.extra = map[string]notifiers.Notifier{"team-slack": sl}
	h.rules[0].Notify = []string{"team-slack:#ai-policy"}
	fourFeeds(h)
	h.start()
	h.once()
	h.feeds.add("/a", event[0])
	h.once()

	h.stop() // killed between the parent alert and its follow-up
	h.start()
	h.feeds.add("/b", event[1])
	h.once()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := fake.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("slack got %d messages, want 2", len(msgs))
	}
	parent, err := h.st.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusSent})
	if err != nil {
		t.Fatal(err)
	}
	var parentRef string
	for _, d := range parent {
		if d.Kind == "" {
			parentRef = d.Ref
		}
	}
	if msgs[0].ThreadTS != "" || parentRef == "" || msgs[1].ThreadTS != parentRef {
		t.Errorf("thread_ts: first %q, follow-up %q; want the follow-up under the first alert's ts %q", msgs[0].ThreadTS, msgs[1].ThreadTS, parentRef)
	}
}

func TestBoilerplateSummariesDoNotMergeUnrelatedStories(t *testing.T) {
	h := newHarness(t)
	h.rules[0].Query = "nvidia"
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()
	for i, title := range []string{"Nvidia opens a research lab in Toronto", "Nvidia shares fall after earnings call", "Nvidia wins antitrust case in Brussels"} {
		h.feeds.add("/a", item{GUID: title, Title: title, Description: "Click here to read the full story on our website and subscribe for more updates every day.",
			Link: "https://news.example/bp/" + string(rune('a'+i)), Published: t0})
	}
	h.once()
	got := h.alerts()
	if k := kinds(got); k["alert"] != 3 {
		t.Fatalf("three unrelated stories with one boilerplate summary gave %v, want 3 alerts", k)
	}
}

func TestSlack429IsDeliveredOnceAfterRetryAfter(t *testing.T) {
	fake := slackfake.New(t)
	fake.SetChannels(slackfake.Channel{ID: "C0POLICY", Name: "ai-policy"})
	sl, err := slack.New("team-slack", &slack.Config{Token: "xoxb-test", APIURL: fake.URL()},
		notifiers.Env{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.extra = map[string]notifiers.Notifier{"team-slack": sl}
	h.rules[0].Notify = []string{"team-slack:#ai-policy"}
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()

	fake.FailNext("chat.postMessage", 429, map[string]string{"Retry-After": "2"}, `{"ok":false,"error":"ratelimited"}`)
	h.feeds.add("/a", event[0])
	start := time.Now()
	h.once()
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("slack recorded %d messages, want exactly 1", n)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("delivered %v after the 429, want at least Retry-After: 2s", waited)
	}
	sent, _ := h.st.Deliveries(context.Background(), store.DeliveryQuery{Status: store.StatusSent})
	if len(sent) != 1 || sent[0].Attempts != 2 {
		t.Errorf("sent rows %+v, want one after 2 attempts", sent)
	}
}

func TestDiscord429IsDeliveredOnceAfterRetryAfter(t *testing.T) {
	fake := discordfake.New(t)
	restore, err := discord.SetAPIBase(fake.Base())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
	dc, err := discord.New("ops-discord", &discord.Config{Token: "bot-token", ApplicationID: "1"},
		notifiers.Env{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.extra = map[string]notifiers.Notifier{"ops-discord": dc}
	h.rules[0].Notify = []string{"ops-discord:1234567890"}
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()

	fake.FailNext("channels/1234567890/messages", 429, map[string]string{"Content-Type": "application/json"}, `{"retry_after": 1.5, "global": false}`)
	h.feeds.add("/a", event[0])
	start := time.Now()
	h.once()
	msgs := fake.Messages()
	if n := len(msgs); n != 1 {
		t.Fatalf("discord recorded %d messages, want exactly 1", n)
	}
	if waited := time.Since(start); waited < 1500*time.Millisecond {
		t.Errorf("delivered %v after the 429, want at least retry_after: 1.5s", waited)
	}
	var body struct {
		AllowedMentions *struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(msgs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.AllowedMentions == nil || body.AllowedMentions.Parse == nil || len(body.AllowedMentions.Parse) != 0 {
		t.Errorf("message body lacks an empty allowed_mentions parse list: %s", msgs[0].Body)
	}
}

func TestFollowUpOfAFloodHeldAlertGoesIntoTheSummary(t *testing.T) {
	h := newHarness(t)
	h.maxPerHour = map[string]int{"hook": 1}
	h.feeds.set("/a")
	h.source("Feed A", "/a", 0)
	h.start()
	h.once()
	h.feeds.add("/a", item{GUID: "u", Title: "Nvidia China unrelated earlier story", Link: "https://news.example/u", Published: t0})
	h.once() // uses up the hourly limit

	// The same event twice in one poll: the alert is over the limit, and its
	// follow-up must not be posted ahead of it.
	h.feeds.add("/a", event[0])
	h.feeds.add("/a", event[1])
	h.once()
	got := h.alerts()
	if k := kinds(got); len(got) != 2 || k["alert"] != 1 || k["summary"] != 1 {
		t.Fatalf("got %v, want the first alert and one summary holding the event and its copy", k)
	}
	if sum := got[1]; len(sum.Stories) != 2 {
		t.Errorf("summary lists %d stories, want the event and its copy", len(sum.Stories))
	}
}

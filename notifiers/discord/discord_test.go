package discord_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
)

// botToken is the test bot's token; it must never appear in an error.
const botToken = "MTAwMDAwMDAwMDAwMDAwMDAy.Gx1234.super-secret-bot-token"

// fakeDiscord starts a fake Discord and points discordgo at it for the test.
func fakeDiscord(t *testing.T) *discordfake.Discord {
	t.Helper()
	d := discordfake.New(t)
	restore, err := discord.SetAPIBase(d.Base())
	if err != nil {
		t.Fatalf("SetAPIBase: %v", err)
	}
	t.Cleanup(restore)
	return d
}

func newBot(t *testing.T) *discord.Notifier {
	t.Helper()
	n, err := discord.New("ops-discord", &discord.Config{Token: botToken}, notifiers.Env{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// pacedBot is the bot behind the pacing stage the registry puts it behind.
func pacedBot(t *testing.T, pace config.Pace, clock *fakeClock) notifiers.Notifier {
	t.Helper()
	return notifiers.Paced(newBot(t), pace, notifiers.PaceClock(clock.Now, clock.Wait))
}

func alertTo(channel string, opts ...func(*notifiers.Alert)) *notifiers.Alert {
	return notifiertest.Alert(append([]func(*notifiers.Alert){func(a *notifiers.Alert) {
		a.Target = "ops-discord:" + channel
		a.Channel = channel
	}}, opts...)...)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sent decodes the body of a recorded message.
func sent(t *testing.T, r discordfake.Request) discordgo.MessageSend {
	t.Helper()
	var m discordgo.MessageSend
	if err := r.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return m
}

// checkNoMentions asserts the raw body allows no mentions at all.
func checkNoMentions(t *testing.T, body []byte) {
	t.Helper()
	var raw struct {
		AllowedMentions json.RawMessage `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	notifiertest.JSONEq(t, `{"parse":[],"replied_user":false}`, string(raw.AllowedMentions))
	if !strings.Contains(string(body), `"allowed_mentions":{"parse":[]`) {
		t.Errorf(`body lacks "allowed_mentions":{"parse":[]: %s`, body)
	}
}

func TestNotifyPostsEmbed(t *testing.T) {
	d := fakeDiscord(t)
	n := newBot(t)
	ctx := testCtx(t)

	ref, retry, err := n.Notify(ctx, alertTo("1234567890"))
	if err != nil || retry {
		t.Fatalf("Notify = %q, %v, %v", ref, retry, err)
	}
	msgs, err := d.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.Method != http.MethodPost || m.Route != "/channels/1234567890/messages" {
		t.Errorf("request %s %s", m.Method, m.Path)
	}
	if got := m.Header.Get("Authorization"); got != "Bot "+botToken {
		t.Errorf("Authorization = %q", got)
	}
	if ref != m.ID || ref == "" {
		t.Errorf("ref %q, want the new message id %q", ref, m.ID)
	}
	checkNoMentions(t, m.Body)

	var body struct {
		Embeds json.RawMessage `json:"embeds"`
	}
	if err := json.Unmarshal(m.Body, &body); err != nil {
		t.Fatal(err)
	}
	notifiertest.JSONEq(t, fmt.Sprintf(`[{
		"type": "rich",
		"title": "Nvidia readies new China chip as US tightens export rules",
		"url": "https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/",
		"description": "**Nvidia** is preparing a new AI chip for **China** that meets the latest US export controls, people familiar with the matter said.",
		"timestamp": "2026-11-28T09:00:00Z",
		"color": %d,
		"footer": {"text": "Reuters · rule: nvidia-china"}
	}]`, discord.Colour("nvidia-china")), string(body.Embeds))
	if ms := sent(t, m); ms.Reference != nil {
		t.Errorf("a first alert is no reply: %+v", ms.Reference)
	}
}

func TestNotifyEscapesHostileTitle(t *testing.T) {
	d := fakeDiscord(t)
	n := newBot(t)
	ctx := testCtx(t)
	a := alertTo("1", func(a *notifiers.Alert) {
		a.Story.Title = "@everyone <@&123> **bold** [x](https://evil)"
	})
	if _, _, err := n.Notify(ctx, a); err != nil {
		t.Fatal(err)
	}
	msgs, err := d.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkNoMentions(t, msgs[0].Body)
	title := sent(t, msgs[0]).Embeds[0].Title
	if want := "@\u200beveryone \\<@&123\\> \\*\\*bold\\*\\* \\[x\\]\\(https://evil)"; title != want {
		t.Errorf("title\n got %q\nwant %q", title, want)
	}
	if strings.Contains(string(msgs[0].Body), "@everyone") {
		t.Errorf("body still says @everyone: %s", msgs[0].Body)
	}
}

func TestNotifyTruncatesWithinLimits(t *testing.T) {
	d := fakeDiscord(t)
	n := newBot(t)
	ctx := testCtx(t)
	a := longAlert()
	a.Channel = "1"
	if _, _, err := n.Notify(ctx, a); err != nil {
		t.Fatal(err)
	}
	msgs, err := d.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	ms := sent(t, msgs[0])
	checkLimits(t, ms.Embeds)
	if discord.Len(ms.Content) > discord.MaxContent {
		t.Errorf("content %d units", discord.Len(ms.Content))
	}
	if discord.Len(ms.Embeds[0].Title) != discord.MaxTitle && discord.Len(ms.Embeds[0].Title) < discord.MaxTitle-2 {
		t.Errorf("title cut to %d units; want it close to %d", discord.Len(ms.Embeds[0].Title), discord.MaxTitle)
	}
}

func TestNotifyFollowUpReplies(t *testing.T) {
	d := fakeDiscord(t)
	n := newBot(t)
	ctx := testCtx(t)
	first, _, err := n.Notify(ctx, alertTo("77"))
	if err != nil {
		t.Fatal(err)
	}
	a := alertTo("77", func(a *notifiers.Alert) {
		a.Kind = store.KindFollowUp
		a.ParentRef = first
		a.Story.Source = "AP"
	})
	if _, _, err := n.Notify(ctx, a); err != nil {
		t.Fatal(err)
	}
	msgs, err := d.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Reference json.RawMessage `json:"message_reference"`
	}
	if err := json.Unmarshal(msgs[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	notifiertest.JSONEq(t, fmt.Sprintf(`{"message_id":%q,"channel_id":"77","fail_if_not_exists":false}`, first), string(body.Reference))
	checkNoMentions(t, msgs[1].Body)
	if e := sent(t, msgs[1]).Embeds[0]; e.Author == nil || e.Author.Name != "Also reported by AP" {
		t.Errorf("follow-up embed = %+v", e)
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		headers   map[string]string
		body      string
		retry     bool
		after     time.Duration
		errSubstr string
	}{
		{"rate limited", 429, nil, `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`, true, 1500 * time.Millisecond, "status 429"},
		{"rate limited without a JSON body", 429, map[string]string{"Retry-After": "3"}, `slow down`, true, 3 * time.Second, "status 429"},
		{"server error", 500, nil, `{"message":"Internal Server Error","code":0}`, true, 0, "status 500"},
		{"bad gateway", 502, nil, `<html>bad gateway</html>`, true, 0, "status 502"},
		{"unavailable", 503, nil, ``, true, 0, "status 503"},
		{"unknown channel", 404, nil, `{"message":"Unknown Channel","code":10003}`, false, 0, "status 404: Unknown Channel (code 10003); check the channel"},
		{"missing access", 403, nil, `{"message":"Missing Access","code":50001}`, false, 0, "status 403: Missing Access (code 50001); check that the bot"},
		{"invalid form body", 400, nil, `{"message":"Invalid Form Body","code":50035,"errors":{"embeds":{}}}`, false, 0, "status 400: Invalid Form Body (code 50035)"},
		{"unauthorized", 401, nil, `{"message":"401: Unauthorized","code":0}`, false, 0, "status 401: 401: Unauthorized; check the token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fakeDiscord(t)
			n := newBot(t)
			d.FailNext("/channels/555/messages", tt.status, tt.headers, tt.body)
			ref, retry, err := n.Notify(testCtx(t), alertTo("555"))
			if err == nil {
				t.Fatalf("Notify succeeded with ref %q", ref)
			}
			if retry != tt.retry {
				t.Errorf("retry = %v, want %v (err %v)", retry, tt.retry, err)
			}
			if got := notifiers.RetryAfter(err); got != tt.after {
				t.Errorf("RetryAfter = %v, want %v", got, tt.after)
			}
			if !strings.Contains(err.Error(), tt.errSubstr) || !strings.Contains(err.Error(), `discord "ops-discord": post to channel 555`) {
				t.Errorf("err = %q, want it to say %q", err, tt.errSubstr)
			}
			notifiertest.AssertNoSecretLeak(t, err, botToken)
			if got := len(d.Requests()); got != 1 {
				t.Errorf("%d requests; discordgo must not retry by itself", got)
			}
		})
	}
}

func TestNotifyNetworkErrorRetries(t *testing.T) {
	restore, err := discord.SetAPIBase(notifiertest.ClosedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
	n := newBot(t)
	_, retry, err := n.Notify(testCtx(t), alertTo("1"))
	if err == nil || !retry {
		t.Fatalf("Notify = %v, %v; want a retryable error", retry, err)
	}
	notifiertest.AssertNoSecretLeak(t, err, botToken)
}

func TestNotifyUnreadableSuccessIsDelivered(t *testing.T) {
	d := fakeDiscord(t)
	n := newBot(t)
	d.FailNext("/channels/", http.StatusOK, nil, `not json`)
	ref, retry, err := n.Notify(testCtx(t), alertTo("1"))
	if err != nil || retry || ref != "" {
		t.Errorf("Notify = %q, %v, %v; want delivered without a ref (sending again would post twice)", ref, retry, err)
	}
}

func TestNotifyRejectsBadChannel(t *testing.T) {
	d := fakeDiscord(t)
	n := newBot(t)
	for _, ch := range []string{"", "#general", "12ab"} {
		_, retry, err := n.Notify(testCtx(t), alertTo(ch))
		if err == nil || retry || !strings.Contains(err.Error(), "not a Discord channel id") {
			t.Errorf("channel %q: retry %v, err %v", ch, retry, err)
		}
	}
	if n := len(d.Requests()); n != 0 {
		t.Errorf("%d requests for bad channels", n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []*discord.Config{
		{},
		{Token: "  "},
		{Token: botToken, APIURL: "ftp://example.com/"},
	}
	for _, cfg := range tests {
		n, err := discord.New("x", cfg, notifiers.Env{})
		if err == nil {
			t.Errorf("New(%+v) = %v, want an error", cfg, n)
			continue
		}
		if strings.Contains(err.Error(), botToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestNotifyHonoursAPIURL(t *testing.T) {
	d := discordfake.New(t)
	// Snapshot discordgo's endpoints (setting them to what they are) so the
	// change New makes is undone when the test ends.
	restore, err := discord.SetAPIBase("https://discord.com")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)

	cfg := &discord.Config{Token: botToken, APIURL: d.Base() + "/api/v10/"}
	n, err := discord.New("ops-discord", cfg, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Notify(testCtx(t), alertTo("9")); err != nil {
		t.Fatal(err)
	}
	if reqs := d.Requests(); len(reqs) != 1 || reqs[0].Path != "/api/v10/channels/9/messages" {
		t.Errorf("requests = %+v, want one to /api/v10/channels/9/messages", reqs)
	}

	// The same base again is fine; another one conflicts, since discordgo's
	// endpoints are shared by the whole process.
	if _, err := discord.New("ops-discord", cfg, notifiers.Env{}); err != nil {
		t.Errorf("same api_url again: %v", err)
	}
	cfg.APIURL = "https://proxy.example/api/v10/"
	if _, err := discord.New("ops-discord", cfg, notifiers.Env{}); err == nil || !strings.Contains(err.Error(), "conflicts") {
		t.Errorf("conflicting api_url: err = %v", err)
	}
}

// fakeClock is a pacer clock whose waits advance time instantly.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func TestNotifyPacesPerChannel(t *testing.T) {
	d := fakeDiscord(t)
	clock := &fakeClock{now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	n := pacedBot(t, discord.Type.Pace, clock)
	ctx := testCtx(t)
	send := func(ch string) {
		t.Helper()
		if _, _, err := n.Notify(ctx, alertTo(ch)); err != nil {
			t.Fatal(err)
		}
	}

	for range 5 {
		send("1")
		clock.Advance(100 * time.Millisecond)
	}
	if w := clock.Waits(); len(w) != 0 {
		t.Fatalf("first five messages waited %v", w)
	}
	send("2") // another channel has its own window
	if w := clock.Waits(); len(w) != 0 {
		t.Fatalf("another channel waited %v", w)
	}
	send("1") // the sixth in five seconds waits for the first to leave the window
	if w := clock.Waits(); len(w) != 1 || w[0] != 4500*time.Millisecond {
		t.Fatalf("sixth message waited %v, want [4.5s]", w)
	}
	if _, err := d.WaitMessages(ctx, 7); err != nil {
		t.Fatal(err)
	}

	// A send that would have to wait gives up when its context ends.
	for range 4 {
		send("3")
	}
	send("3")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, retry, err := n.Notify(cancelled, alertTo("3"))
	if !errors.Is(err, context.Canceled) || !retry {
		t.Errorf("cancelled wait: retry %v, err %v", retry, err)
	}
	if got := len(d.Messages()); got != 12 {
		t.Errorf("%d messages, want 12", got)
	}
}

func TestSetAPIBase(t *testing.T) {
	before := discordgo.EndpointAPI
	beforeVersion := discordgo.APIVersion
	tests := []struct {
		base, api, version string
	}{
		{"http://127.0.0.1:9", "http://127.0.0.1:9/api/v" + beforeVersion + "/", beforeVersion},
		{"http://127.0.0.1:9/", "http://127.0.0.1:9/api/v" + beforeVersion + "/", beforeVersion},
		{"https://discord.com/api/v10/", "https://discord.com/api/v10/", "10"},
		{"https://discord.com/api/v10", "https://discord.com/api/v10/", "10"},
		{"https://proxy.example/discord/api/v9/", "https://proxy.example/discord/api/v9/", "9"},
		{"https://proxy.example/discord/api", "https://proxy.example/discord/api/v" + beforeVersion + "/", beforeVersion},
	}
	for _, tt := range tests {
		restore, err := discord.SetAPIBase(tt.base)
		if err != nil {
			t.Fatalf("SetAPIBase(%q): %v", tt.base, err)
		}
		got := map[string]string{
			"api":          discordgo.EndpointAPI,
			"channels":     discordgo.EndpointChannels,
			"guilds":       discordgo.EndpointGuilds,
			"users":        discordgo.EndpointUsers,
			"gateway":      discordgo.EndpointGateway,
			"gateway/bot":  discordgo.EndpointGatewayBot,
			"webhooks":     discordgo.EndpointWebhooks,
			"applications": discordgo.EndpointApplications,
			"messages":     discordgo.EndpointChannelMessages("1"),
			"callback":     discordgo.EndpointInteractionResponse("i", "t"),
			"commands":     discordgo.EndpointApplicationGuildCommands("a", "g"),
		}
		want := map[string]string{
			"api":          tt.api,
			"channels":     tt.api + "channels/",
			"guilds":       tt.api + "guilds/",
			"users":        tt.api + "users/",
			"gateway":      tt.api + "gateway",
			"gateway/bot":  tt.api + "gateway/bot",
			"webhooks":     tt.api + "webhooks/",
			"applications": tt.api + "applications",
			"messages":     tt.api + "channels/1/messages",
			"callback":     tt.api + "interactions/i/t/callback",
			"commands":     tt.api + "applications/a/guilds/g/commands",
		}
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("SetAPIBase(%q): %s = %q, want %q", tt.base, k, got[k], want[k])
			}
		}
		if discordgo.APIVersion != tt.version {
			t.Errorf("SetAPIBase(%q): APIVersion = %q, want %q", tt.base, discordgo.APIVersion, tt.version)
		}
		restore()
		if discordgo.EndpointAPI != before || discordgo.APIVersion != beforeVersion {
			t.Fatalf("restore left %q v%s", discordgo.EndpointAPI, discordgo.APIVersion)
		}
	}
	for _, bad := range []string{"ftp://example.com", "example.com", "http://x/?q=1", "http://user:pw@x/", "::"} {
		if _, err := discord.SetAPIBase(bad); err == nil {
			t.Errorf("SetAPIBase(%q): want an error", bad)
		}
	}
}

func TestPace(t *testing.T) {
	fakeDiscord(t)
	ctx := testCtx(t)
	for _, tt := range []struct {
		n     int
		per   time.Duration
		waits []time.Duration
	}{
		{0, 0, nil},
		{2, time.Second, []time.Duration{time.Second, time.Second}},
	} {
		clock := &fakeClock{now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
		n := pacedBot(t, config.Pace{N: tt.n, Per: tt.per}, clock)
		for range 6 {
			if _, _, err := n.Notify(ctx, alertTo("1")); err != nil {
				t.Fatal(err)
			}
		}
		if got := clock.Waits(); fmt.Sprint(got) != fmt.Sprint(tt.waits) {
			t.Errorf("pace %d/%v: waits %v, want %v", tt.n, tt.per, got, tt.waits)
		}
	}
}

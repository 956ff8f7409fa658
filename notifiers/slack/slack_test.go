package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

const token = "xoxb-1234-secret-bot-token"

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// clock is a fake clock whose sleep advances it instead of waiting.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

func newNotifier(t *testing.T, fake *slackfake.Slack, opts ...slack.Option) *slack.Notifier {
	t.Helper()
	c := newClock()
	opts = append([]slack.Option{slack.WithClock(c.Now)}, opts...)
	n, err := slack.New("team-slack", &slack.Config{Token: token, APIURL: fake.URL()}, notifiers.Env{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func alertTo(channel string, opts ...func(*notifiers.Alert)) *notifiers.Alert {
	return notifiertest.Alert(append([]func(*notifiers.Alert){func(a *notifiers.Alert) {
		a.Target = "team-slack:" + channel
		a.Channel = channel
		a.Rules = []string{"nvidia-china", "chips"}
	}}, opts...)...)
}

func TestNotifyPostsBlocks(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	n := newNotifier(t, fake)

	ref, retry, err := n.Notify(ctx, alertTo("C0123ABCD"))
	if err != nil || retry {
		t.Fatalf("Notify: %v (retry %v)", err, retry)
	}
	msgs, err := fake.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if ref != m.TS || ref == "" {
		t.Errorf("ref %q, want the message ts %q", ref, m.TS)
	}
	if m.Channel != "C0123ABCD" || m.Token != token || m.ThreadTS != "" {
		t.Errorf("channel %q, token %q, thread_ts %q", m.Channel, m.Token, m.ThreadTS)
	}
	if m.UnfurlLinks != "false" || m.UnfurlMedia != "false" {
		t.Errorf("unfurl_links %q, unfurl_media %q, want both false", m.UnfurlLinks, m.UnfurlMedia)
	}
	if want := "Nvidia readies new China chip as US tightens export rules — Reuters"; m.Text != want {
		t.Errorf("fallback text %q, want %q", m.Text, want)
	}
	notifiertest.JSONEq(t, `[
	  {"type": "section", "text": {"type": "mrkdwn", "verbatim": true, "text":
	    "<https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/|*Nvidia* readies new *China* chip as US tightens export rules>\n*Nvidia* is preparing a new AI chip for *China* that meets the latest US export controls, people familiar with the matter said."}},
	  {"type": "context", "elements": [{"type": "mrkdwn", "verbatim": true, "text":
	    "Reuters · <!date^1795856400^{date_short_pretty} {time}|2026-11-28T09:00:00Z> · nvidia-china, chips"}]}
	]`, string(m.Blocks))
}

func TestNotifyEscapesUntrustedText(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	n := newNotifier(t, fake)

	a := alertTo("C0123ABCD", func(a *notifiers.Alert) {
		a.Story.Title = "<!channel> & <@U123> <https://evil|click>"
		a.Story.Summary = "<!here> read <https://evil.example|this>"
		a.Story.Source = "<!everyone>"
		a.Rules = []string{"<@U999>"}
	})
	if _, _, err := n.Notify(ctx, a); err != nil {
		t.Fatal(err)
	}
	m := fake.Messages()[0]
	var blocks []struct {
		Text     *struct{ Text string }
		Elements []struct{ Text string }
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	section := blocks[0].Text.Text
	wantSection := "<https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/|&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;>\n" +
		"&lt;!here&gt; read &lt;https://evil.example|this&gt;"
	if section != wantSection {
		t.Errorf("section\n got %q\nwant %q", section, wantSection)
	}
	wantContext := "&lt;!everyone&gt; · <!date^1795856400^{date_short_pretty} {time}|2026-11-28T09:00:00Z> · &lt;@U999&gt;"
	if got := blocks[1].Elements[0].Text; got != wantContext {
		t.Errorf("context\n got %q\nwant %q", got, wantContext)
	}
	if want := "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt; — &lt;!everyone&gt;"; m.Text != want {
		t.Errorf("fallback %q, want %q", m.Text, want)
	}
	for _, s := range []string{string(m.Blocks), m.Text} {
		for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@U999>", "<https://evil"} {
			if strings.Contains(s, bad) {
				t.Errorf("%q reaches Slack unescaped in %s", bad, s)
			}
		}
	}
}

func TestNotifyTruncatesToSlackLimits(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t) // rejects, as Slack does, a message over any limit
	n := newNotifier(t, fake)

	a := alertTo("C0123ABCD", func(a *notifiers.Alert) {
		a.Story.Title = strings.Repeat("Nvidia & China <chips> ", 22)[:500]
		a.Story.Summary = strings.Repeat("export controls & more ", 435)[:10000]
	})
	if _, _, err := n.Notify(ctx, a); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	m := fake.Messages()[0]
	var blocks []struct {
		Text     *struct{ Text string }
		Elements []struct{ Text string }
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	title, snippet, _ := strings.Cut(blocks[0].Text.Text, "\n")
	if !strings.HasSuffix(title, "…>") || !strings.HasSuffix(snippet, "…") {
		t.Errorf("title %q and snippet %q should end cut with …", title, snippet)
	}
	for _, s := range []string{blocks[0].Text.Text, blocks[1].Elements[0].Text, m.Text} {
		if utf8.RuneCountInString(s) > 3000 || !utf8.ValidString(s) {
			t.Errorf("text of %d runes (valid UTF-8: %v)", utf8.RuneCountInString(s), utf8.ValidString(s))
		}
	}
	if len(blocks) > 50 {
		t.Errorf("%d blocks", len(blocks))
	}
}

func TestNotifyThreadsFollowUps(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	n := newNotifier(t, fake)

	first, _, err := n.Notify(ctx, alertTo("C0123ABCD"))
	if err != nil {
		t.Fatal(err)
	}
	follow := alertTo("C0123ABCD", func(a *notifiers.Alert) {
		a.Kind = store.KindFollowUp
		a.ParentRef = first
		a.Story = notifiertest.Story(func(s *story.Story) { s.Source = "AP"; s.URL = "https://apnews.com/x" })
	})
	if _, _, err := n.Notify(ctx, follow); err != nil {
		t.Fatal(err)
	}
	msgs, err := fake.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[1].ThreadTS != first {
		t.Errorf("follow-up thread_ts %q, want %q", msgs[1].ThreadTS, first)
	}
	if !strings.HasPrefix(msgs[1].Text, "Also reported by AP: ") {
		t.Errorf("follow-up text %q", msgs[1].Text)
	}
}

func TestNotifyFailures(t *testing.T) {
	tests := []struct {
		name      string
		script    func(*slackfake.Slack)
		retry     bool
		wait      time.Duration
		errSubstr string
	}{
		{"429 with Retry-After", func(f *slackfake.Slack) {
			f.FailNext("chat.postMessage", http.StatusTooManyRequests, map[string]string{"Retry-After": "2"}, "")
		}, true, 2 * time.Second, "retry after 2s"},
		{"429 without Retry-After", func(f *slackfake.Slack) {
			f.FailNext("chat.postMessage", http.StatusTooManyRequests, nil, "")
		}, true, 0, "429"},
		{"500", func(f *slackfake.Slack) {
			f.FailNext("chat.postMessage", http.StatusInternalServerError, nil, "<html>boom</html>")
		}, true, 0, "500"},
		{"503", func(f *slackfake.Slack) {
			f.FailNext("chat.postMessage", http.StatusServiceUnavailable, nil, "")
		}, true, 0, "503"},
		{"400", func(f *slackfake.Slack) {
			f.FailNext("chat.postMessage", http.StatusBadRequest, nil, "")
		}, false, 0, "400"},
		{"unreadable answer", func(f *slackfake.Slack) {
			f.FailNext("chat.postMessage", http.StatusOK, nil, "<html>proxy</html>")
		}, true, 0, "invalid character"},
		{"channel_not_found", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "channel_not_found") },
			false, 0, `slack "team-slack": channel C0123ABCD not found — invite the bot to it (/invite @wirewatch) (channel_not_found)`},
		{"not_in_channel", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "not_in_channel") },
			false, 0, "invite it (/invite @wirewatch)"},
		{"is_archived", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "is_archived") },
			false, 0, "channel C0123ABCD is archived"},
		{"invalid_auth", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "invalid_auth") },
			false, 0, "the bot token is not valid"},
		{"msg_too_long", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "msg_too_long") },
			false, 0, "msg_too_long"},
		{"invalid_blocks", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "invalid_blocks") },
			false, 0, "invalid_blocks"},
		{"unknown API error", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "something_new") },
			false, 0, "something_new"},
		{"ratelimited", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "ratelimited") },
			true, 0, "ratelimited"},
		{"internal_error", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "internal_error") },
			true, 0, "internal_error"},
		{"fatal_error", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "fatal_error") },
			true, 0, "fatal_error"},
		{"service_unavailable", func(f *slackfake.Slack) { f.FailNextError("chat.postMessage", "service_unavailable") },
			true, 0, "service_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			fake := slackfake.New(t)
			tt.script(fake)
			n := newNotifier(t, fake)
			ref, retry, err := n.Notify(ctx, alertTo("C0123ABCD"))
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if ref != "" || retry != tt.retry {
				t.Errorf("ref %q, retry %v; want no ref, retry %v", ref, retry, tt.retry)
			}
			if got := notifiers.RetryAfter(err); got != tt.wait {
				t.Errorf("RetryAfter = %v, want %v", got, tt.wait)
			}
			if !strings.Contains(err.Error(), tt.errSubstr) {
				t.Errorf("error %q, want it to contain %q", err, tt.errSubstr)
			}
			if !strings.HasPrefix(err.Error(), `slack "team-slack": `) {
				t.Errorf("error %q does not name the notifier", err)
			}
			notifiertest.AssertNoSecretLeak(t, err, token)
		})
	}
}

func TestNotifyKeepsSlackErrorsInChain(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	fake.FailNextError("chat.postMessage", "channel_not_found")
	_, _, err := newNotifier(t, fake).Notify(ctx, alertTo("C0123ABCD"))
	var se slackgo.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "channel_not_found" {
		t.Errorf("error %v does not wrap slack.SlackErrorResponse", err)
	}
}

func TestNotifyNetworkErrorRetries(t *testing.T) {
	ctx := testContext(t)
	n, err := slack.New("team-slack", &slack.Config{Token: token, APIURL: notifiertest.ClosedURL(t) + "/api"}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, retry, err := n.Notify(ctx, alertTo("C0123ABCD"))
	if err == nil || !retry {
		t.Fatalf("Notify to a closed port: %v, retry %v; want a retried error", err, retry)
	}
	notifiertest.AssertNoSecretLeak(t, err, token)
}

func TestNotifyCancelled(t *testing.T) {
	fake := slackfake.New(t)
	n := newNotifier(t, fake)
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	_, retry, err := n.Notify(ctx, alertTo("C0123ABCD"))
	if !errors.Is(err, context.Canceled) || !retry {
		t.Errorf("Notify with a cancelled context: %v, retry %v; want context.Canceled, retry", err, retry)
	}
	if got := fake.Calls("chat.postMessage"); got != 0 {
		t.Errorf("chat.postMessage called %d times", got)
	}
}

func TestNotifyResolvesChannelNames(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	fake.SetPageSize(1) // three pages
	fake.SetChannels(
		slackfake.Channel{ID: "C0000GEN", Name: "general"},
		slackfake.Channel{ID: "G0000SEC", Name: "secret", IsPrivate: true},
		slackfake.Channel{ID: "C0000AIP", Name: "ai-policy"},
	)
	n := newNotifier(t, fake)

	for _, ch := range []string{"#ai-policy", "#ai-policy", "#secret", "general"} {
		if _, _, err := n.Notify(ctx, alertTo(ch)); err != nil {
			t.Fatalf("Notify to %s: %v", ch, err)
		}
	}
	var got []string
	for _, m := range fake.Messages() {
		got = append(got, m.Channel)
	}
	if want := "C0000AIP,C0000AIP,G0000SEC,C0000GEN"; strings.Join(got, ",") != want {
		t.Errorf("posted to %s, want %s", strings.Join(got, ","), want)
	}
	if calls := fake.Calls("conversations.list"); calls != 3 {
		t.Errorf("conversations.list called %d times, want 3 (one listing of three pages)", calls)
	}
}

func TestNotifyUnknownChannel(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	fake.SetChannels(slackfake.Channel{ID: "C0000GEN", Name: "general"})
	c := newClock()
	n, err := slack.New("team-slack", &slack.Config{Token: token, APIURL: fake.URL()}, notifiers.Env{}, slack.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}

	_, retry, err := n.Notify(ctx, alertTo("#foo"))
	want := `slack "team-slack": channel #foo not found — invite the bot to it (/invite @wirewatch)`
	if err == nil || err.Error() != want || retry {
		t.Fatalf("Notify to #foo: %v, retry %v; want %q, no retry", err, retry, want)
	}
	notifiertest.AssertNoSecretLeak(t, err, token)

	// A second miss right away does not list again; once the bot is invited
	// and a little time has passed, the name resolves.
	if _, _, err := n.Notify(ctx, alertTo("#foo")); err == nil {
		t.Fatal("second Notify to #foo succeeded")
	}
	if calls := fake.Calls("conversations.list"); calls != 1 {
		t.Errorf("conversations.list called %d times, want 1", calls)
	}
	fake.SetChannels(slackfake.Channel{ID: "C0000GEN", Name: "general"}, slackfake.Channel{ID: "C0000FOO", Name: "foo"})
	_ = c.Sleep(ctx, time.Minute)
	if _, _, err := n.Notify(ctx, alertTo("#foo")); err != nil {
		t.Fatalf("Notify to #foo after the invite: %v", err)
	}
	if calls := fake.Calls("conversations.list"); calls != 2 {
		t.Errorf("conversations.list called %d times, want 2", calls)
	}

	// When the cache is stale and listing fails, a known name still resolves
	// from the stale cache; an unknown one is retried like a failed post.
	_ = c.Sleep(ctx, time.Hour)
	fake.FailNext("conversations.list", http.StatusTooManyRequests, map[string]string{"Retry-After": "30"}, "")
	if _, _, err := n.Notify(ctx, alertTo("#general")); err != nil {
		t.Errorf("Notify to a stale cached name while listing fails: %v", err)
	}
	fake.FailNext("conversations.list", http.StatusTooManyRequests, map[string]string{"Retry-After": "30"}, "")
	_, retry, err = n.Notify(ctx, alertTo("#new"))
	if err == nil || !retry || notifiers.RetryAfter(err) != 30*time.Second {
		t.Errorf("Notify while conversations.list is rate limited: %v, retry %v; want a retry after 30s", err, retry)
	}
	notifiertest.AssertNoSecretLeak(t, err, token)
	if calls := fake.Calls("conversations.list"); calls != 4 {
		t.Errorf("conversations.list called %d times, want 4", calls)
	}
}

// The registry puts every notifier behind the pacing stage, with its type's pace.
func TestNotifyPacesPerChannel(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	c := newClock()
	n := notifiers.Paced(newNotifier(t, fake), slack.Type.Pace, notifiers.PaceClock(c.Now, c.Sleep))

	send := func(ch string) time.Time {
		t.Helper()
		if _, _, err := n.Notify(ctx, alertTo(ch)); err != nil {
			t.Fatal(err)
		}
		return c.Now()
	}
	t1 := send("C0000AAA")
	t2 := send("C0000AAA")
	send("C0000BBB") // another channel does not wait
	t3 := send("C0000AAA")
	if d := t2.Sub(t1); d < time.Second {
		t.Errorf("second message to one channel %v after the first, want at least 1s", d)
	}
	if d := t3.Sub(t2); d < time.Second {
		t.Errorf("third message to one channel %v after the second, want at least 1s", d)
	}
	if got := c.Slept(); len(got) != 2 || got[0] != time.Second || got[1] != time.Second {
		t.Errorf("slept %v, want [1s 1s]", got)
	}
}

func TestNotifyPacingHonoursContext(t *testing.T) {
	fake := slackfake.New(t)
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	blocked := make(chan struct{})
	sleep := func(ctx context.Context, d time.Duration) error {
		close(blocked)
		<-ctx.Done()
		return ctx.Err()
	}
	n := notifiers.Paced(newNotifier(t, fake), slack.Type.Pace, notifiers.PaceClock(func() time.Time { return frozen }, sleep))
	ctx := testContext(t)
	if _, _, err := n.Notify(ctx, alertTo("C0000AAA")); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, retry, err := n.Notify(ctx2, alertTo("C0000AAA"))
		if !retry {
			err = errors.New("retry is false")
		}
		done <- err
	}()
	<-blocked
	// Another channel is not held up by the one waiting.
	if _, _, err := n.Notify(ctx, alertTo("C0000BBB")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("paced Notify after cancel: %v, want context.Canceled and retry", err)
	}
	if got := len(fake.Messages()); got != 2 {
		t.Errorf("%d messages posted, want 2", got)
	}
}

func TestNotifyDigestAndHealth(t *testing.T) {
	ctx := testContext(t)
	fake := slackfake.New(t)
	n := newNotifier(t, fake)

	stories := make([]story.Story, 80)
	for i := range stories {
		stories[i] = *notifiertest.Story()
	}
	digest := alertTo("C0123ABCD", func(a *notifiers.Alert) {
		a.Kind, a.Story, a.Stories = store.KindDigest, nil, stories
	})
	health := alertTo("C0123ABCD", func(a *notifiers.Alert) {
		a.Kind, a.Story, a.Text = store.KindHealth, nil, "source \"Feed A\" failed 5 times"
	})
	for _, a := range []*notifiers.Alert{digest, health} {
		if _, _, err := n.Notify(ctx, a); err != nil {
			t.Fatalf("Notify %s: %v", a.Kind, err)
		}
	}
	msgs := fake.Messages()
	var blocks []json.RawMessage
	if err := json.Unmarshal(msgs[0].Blocks, &blocks); err != nil || len(blocks) != 50 {
		t.Errorf("digest of 80 stories: %d blocks (%v), want 50", len(blocks), err)
	}
	if msgs[1].Text != `source "Feed A" failed 5 times` {
		t.Errorf("health text %q", msgs[1].Text)
	}

	_, retry, err := n.Notify(ctx, alertTo("C0123ABCD", func(a *notifiers.Alert) { a.Story = nil }))
	if err == nil || retry {
		t.Errorf("alert without a story: %v, retry %v; want an error, no retry", err, retry)
	}
}

func TestNew(t *testing.T) {
	fake := slackfake.New(t)
	tests := []struct {
		name string
		cfg  *slack.Config
		want string
	}{
		{"no token", &slack.Config{}, `slack "s": token is empty`},
		{"bad api_url", &slack.Config{Token: token, APIURL: "ftp://x/"}, "api_url"},
	}
	for _, tt := range tests {
		if _, err := slack.New("s", tt.cfg, notifiers.Env{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		} else {
			notifiertest.AssertNoSecretLeak(t, err, token)
		}
	}

	// api_url works without its trailing slash.
	n, err := slack.New("s", &slack.Config{Token: token, APIURL: strings.TrimSuffix(fake.URL(), "/")}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Notify(testContext(t), alertTo("C0123ABCD")); err != nil {
		t.Errorf("Notify through api_url without a slash: %v", err)
	}
}

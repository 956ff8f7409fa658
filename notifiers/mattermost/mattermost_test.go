package mattermost_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/notifiers/mattermost"
	"github.com/wirewatch/wirewatch/notifiers/mattermost/mattermostfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/store"
)

const (
	token   = "mm-s3cret-bot-token-0123456789"
	hookKey = "hookkeys3cret0123456789abc"
	channel = "4xp9fdt77pncbef59f4k1qe83o"
)

func to(ch string, opts ...func(*notifiers.Alert)) *notifiers.Alert {
	return notifiertest.Alert(append([]func(*notifiers.Alert){func(a *notifiers.Alert) {
		a.Target, a.Channel = "team-mm:"+ch, ch
	}}, opts...)...)
}

func newBot(t *testing.T, f *mattermostfake.Mattermost, logger *slog.Logger) notifiers.Notifier {
	t.Helper()
	n, err := mattermost.Type.Build("team-mm", &mattermost.Config{URL: f.URL() + "/", Token: token}, notifiers.Env{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func posts(f *mattermostfake.Mattermost) func(*testing.T) [][]notifiertest.Field {
	return func(*testing.T) [][]notifiertest.Field {
		var out [][]notifiertest.Field
		for _, p := range f.Posts() {
			out = append(out, []notifiertest.Field{{Name: "message", Text: p.Message, Syntax: notifiertest.Markdown,
				Max: mattermost.MaxMessage, Mentions: true}})
		}
		return out
	}
}

func TestConformance(t *testing.T) {
	f := mattermostfake.New(t, token, hookKey, channel)
	notifiertest.Run(t, notifiertest.Subject{
		New:       func(t *testing.T, logger *slog.Logger) notifiers.Notifier { return newBot(t, f, logger) },
		Target:    "team-mm:" + channel,
		Channel:   channel,
		Secrets:   []string{token},
		Fail:      f.Fail,
		RateLimit: func(d time.Duration) { f.RateLimit(int(d.Seconds())) },
		Hold:      f.Hold,
		Sent:      posts(f),
		Reply: func(t *testing.T, ref string) bool {
			ps := f.Posts()
			return ps[len(ps)-1].RootID == ref
		},
	})
}

func TestWebhookConformance(t *testing.T) {
	f := mattermostfake.New(t, token, hookKey, channel)
	notifiertest.Run(t, notifiertest.Subject{
		New: func(t *testing.T, logger *slog.Logger) notifiers.Notifier {
			n, err := mattermost.WebhookType.Build("team-hook", &mattermost.WebhookConfig{URL: config.Secret(f.HookURL())},
				notifiers.Env{Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		Target:    "team-hook",
		Secrets:   []string{hookKey},
		Fail:      f.Fail,
		RateLimit: func(d time.Duration) { f.RateLimit(int(d.Seconds())) },
		Hold:      f.Hold,
		Sent:      posts(f),
	})
}

func TestPostAndThread(t *testing.T) {
	f := mattermostfake.New(t, token, hookKey, channel)
	n := newBot(t, f, nil)
	ref, retry, err := n.Notify(t.Context(), to(channel))
	if err != nil || retry || len(ref) != 26 {
		t.Fatalf("Notify = %q, %v, %v; want the post id", ref, retry, err)
	}
	want := "#### [**Nvidia** readies new **China** chip as US tightens export rules](<https://www.reuters.com/technology/nvidia-china-chip-2026-11-28/>)\n" +
		"**Nvidia** is preparing a new AI chip for **China** that meets the latest US export controls, people familiar with the matter said\\.\n" +
		"_Reuters · 28 Nov 2026 09:00 UTC · rule: nvidia\\-china_"
	if got := f.Posts()[0]; got.Message != want || got.ChannelID != channel || got.RootID != "" {
		t.Errorf("post %+v\nwant message:\n%s", got, want)
	}
	if _, _, err := n.Notify(t.Context(), to(channel, func(a *notifiers.Alert) {
		a.Kind, a.ParentRef, a.Story.Source = store.KindFollowUp, ref, "AP"
	})); err != nil {
		t.Fatal(err)
	}
	if got := f.Posts()[1]; got.RootID != ref || !strings.HasPrefix(got.Message, "**Also reported by AP**\n") {
		t.Errorf("follow-up %+v: want it in the thread of %s", got, ref)
	}
}

func TestRefusals(t *testing.T) {
	f := mattermostfake.New(t, token, hookKey, channel)
	n := newBot(t, f, nil)
	_, retry, err := n.Notify(t.Context(), to("zzzzzzzzzzzzzzzzzzzzzzzzzz"))
	if err == nil || retry || !strings.Contains(err.Error(), "status 403: You do not have the appropriate permissions.; add the bot to the channel's team and the channel") {
		t.Errorf("unknown channel: retry %v, err %v", retry, err)
	}
	bad, err := mattermost.New("team-mm", &mattermost.Config{URL: f.URL(), Token: "wrong"}, notifiers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, retry, err = bad.Notify(t.Context(), to(channel)); err == nil || retry || !strings.Contains(err.Error(), "check the token") {
		t.Errorf("bad token: retry %v, err %v", retry, err)
	}
	if _, retry, err = n.Notify(t.Context(), to("#town-square")); err == nil || retry || f.Calls() != 2 {
		t.Errorf("channel name: retry %v, err %v, %d calls; want a permanent error before any call", retry, err, f.Calls())
	}
	f.Fail(400, "Invalid RootId parameter.")
	_, retry, err = n.Notify(t.Context(), to(channel))
	if err == nil || retry {
		t.Errorf("400: retry %v, err %v", retry, err)
	}
}

func TestHostileTitleCannotPing(t *testing.T) {
	f := mattermostfake.New(t, token, hookKey, channel)
	if _, _, err := newBot(t, f, nil).Notify(t.Context(), to(channel, func(a *notifiers.Alert) {
		a.Story.Title = "@channel look: [x](https://evil.example) **now**"
	})); err != nil {
		t.Fatal(err)
	}
	msg := f.Posts()[0].Message
	if !strings.Contains(msg, "@\u2060channel look: \\[x\\]\\(https://evil\\.example\\) \\*\\*now\\*\\*") {
		t.Errorf("message %q: want the title escaped and @channel defused", msg)
	}
}

func TestConfig(t *testing.T) {
	types := []config.NotifierType{mattermost.Type.NotifierType, mattermost.WebhookType.NotifierType}
	doc := func(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }
	_, err := config.Parse("t.toml", doc(
		`[[notifiers]]`, `name = "mm"`, `type = "mattermost"`, `url = "chat.example.com"`,
		`[[notifiers]]`, `name = "hook"`, `type = "mattermost-webhook"`, `url = "https://chat.example.com/hooks/k"`, `token = "t"`,
		`[[rules]]`, `name = "r"`, `query = "x"`, `notify = ["mm", "mm:town-square", "hook:x", "mm:`+channel+`"]`), nil, types)
	want := []string{
		`t.toml:1: notifiers[0].token: missing (required for mattermost notifiers)`,
		`t.toml:4: notifiers[0].url: must be an http:// or https:// URL with a host`,
		`t.toml:9: notifiers[1].token: not used by mattermost-webhook notifiers`,
		`t.toml:13: rules[0].notify[0]: mattermost notifier "mm" needs a channel: write "mm:CHANNEL_ID"`,
		`t.toml:13: rules[0].notify[1]: a Mattermost channel is a channel id (26 letters and digits, under View Info in the channel's menu), got "town-square"`,
		`t.toml:13: rules[0].notify[2]: mattermost-webhook notifier "hook" takes no channel: write "hook"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

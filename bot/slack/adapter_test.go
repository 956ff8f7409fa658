package slack

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	slacknotify "github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

func TestNewRejectsBadConfig(t *testing.T) {
	fake := slackfake.New(t)
	tests := []struct {
		name   string
		change func(*slacknotify.Config)
		want   string
	}{
		{name: "no way to connect", change: func(c *slacknotify.Config) { c.AppToken, c.SigningSecret = "", "" }, want: "neither app_token"},
		{name: "bot token as app token", change: func(c *slacknotify.Config) { c.AppToken = botToken }, want: "not an app-level token"},
		{name: "api_url not http", change: func(c *slacknotify.Config) { c.APIURL = "ftp://example.com/" }, want: "not an http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := notifierConfig(fake)
			tc.change(cfg)
			_, err := New("team", cfg, newStub(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error with %q", err, tc.want)
			}
			notifiertest.AssertNoSecretLeak(t, err, botToken, appToken, signingSecret)
		})
	}

	cfg := notifierConfig(fake)
	cfg.AppToken, cfg.SigningSecret = "", ""
	if _, err := New("team", cfg, newStub(), nil); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("New without app token or signing secret = %v, want ErrNotConfigured", err)
	}
	if _, err := New("team", notifierConfig(fake), nil, nil); err == nil {
		t.Error("New without a handler succeeded")
	}
}

func TestRequestAdminFromAdminsList(t *testing.T) {
	fake := slackfake.New(t)
	cfg := notifierConfig(fake)
	cfg.Admins = []string{" U0ADMIN ", "U0OTHER"}
	a, err := New("team", cfg, newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]bool{"U0ADMIN": true, "U0OTHER": true, "U0USER": false, "u0admin": false, "": false} {
		req, ok := a.request(slackgo.SlashCommand{Command: "/watch", Text: "remove 3", UserID: user})
		if !ok || req.Admin != want {
			t.Errorf("user %q: Admin = %v, want %v", user, req.Admin, want)
		}
	}

	cfg.Admins = nil
	a, err = New("team", cfg, newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if req, _ := a.request(slackgo.SlashCommand{Command: "/watch", Text: "remove 3", UserID: "U0ADMIN"}); req.Admin {
		t.Error("Admin set with no admins configured")
	}
}

func TestRequestMapping(t *testing.T) {
	fake := slackfake.New(t)
	a, err := New("team", notifierConfig(fake), newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		command, text string
		want          commands.Request // Command, Sub, Args
		known         bool
	}{
		{"/news", "  ukraine  ", commands.Request{Command: "news", Args: "ukraine"}, true},
		{"/news", "", commands.Request{Command: "news"}, true},
		{"/NEWS", "x", commands.Request{Command: "news", Args: "x"}, true},
		{"/watch", "Pause\t9", commands.Request{Command: "watch", Sub: "pause", Args: "9"}, true},
		{"/watch", "add nato\ndigest:weekly", commands.Request{Command: "watch", Sub: "add", Args: "nato\ndigest:weekly"}, true},
		{"/sources", "", commands.Request{Command: "sources", Sub: "help"}, true},
		{"/sources", "remove <https://example.com/feed|example.com/feed>", commands.Request{Command: "sources", Sub: "remove", Args: "https://example.com/feed"}, true},
		{"/weather", "x", commands.Request{}, false},
		{"news", "x", commands.Request{Command: "news", Args: "x"}, true},
	}
	for _, tc := range tests {
		got, known := a.request(slackgo.SlashCommand{Command: tc.command, Text: tc.text, UserID: userID, ChannelID: channelID})
		if known != tc.known {
			t.Errorf("%s %q: known = %v", tc.command, tc.text, known)
			continue
		}
		if !known {
			continue
		}
		if got.Command != tc.want.Command || got.Sub != tc.want.Sub || got.Args != tc.want.Args ||
			got.Platform != "slack" || got.Notifier != "team" || got.Target() != "team:"+channelID {
			t.Errorf("%s %q: got %+v, want %+v", tc.command, tc.text, got, tc.want)
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := map[string]string{
		"AT&amp;T &lt;merger&gt;":                   "AT&T <merger>",
		"&amp;lt; stays as typed":                   "&lt; stays as typed",
		"add <https://example.com/rss>":             "add https://example.com/rss",
		"add <https://example.com/rss|example.com>": "add https://example.com/rss",
		"by <@U123|ann> in <#C456|news>":            "by @ann in #news",
		"by <@U123> in <#C456>":                     "by @U123 in #C456",
		"<!here> and <!subteam^S1|@team>":           "@here and @team",
		"<mailto:a@example.com|a@example.com>":      "<mailto:a@example.com|a@example.com>",
	}
	for in, want := range tests {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTrustedResponseURL(t *testing.T) {
	a := &Adapter{apiOrigin: "http://127.0.0.1:8080"}
	for raw, want := range map[string]bool{
		"https://hooks.slack.com/commands/T1/2/abc": true,
		"https://hooks.slack-gov.com/commands/T1/2": true,
		"http://127.0.0.1:8080/response/hooks":      true,
		"http://hooks.slack.com/commands/T1/2/abc":  false,
		"https://hooks.slack.com.evil.example/x":    false,
		"https://evilslack.com/x":                   false,
		"http://127.0.0.1:9090/response/hooks":      false,
		"https://user:pw@hooks.slack.com/x":         false,
		"":                                          false,
		"/relative":                                 false,
	} {
		if got := a.trustedResponseURL(raw); got != want {
			t.Errorf("trustedResponseURL(%q) = %v, want %v", raw, got, want)
		}
	}
}

// Requests made for the command table carry every field the core needs.
func TestFullRequestFields(t *testing.T) {
	fake := slackfake.New(t)
	a, err := New("team", notifierConfig(fake), newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := a.request(slackgo.SlashCommand{
		Command: "/watch", Text: "add nato", UserID: adminID, UserName: "ann", ChannelID: channelID, ChannelName: "news",
	})
	want := fullRequest(commands.Request{Command: "watch", Sub: "add", Args: "nato", Admin: true}, adminID)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// The app manifest defines every command the adapter serves, with escaping
// off, and turns Socket Mode on.
func TestManifestDefinesTheCommands(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(raw)
	for _, cmd := range []string{"/news", "/watch", "/sources"} {
		if !strings.Contains(manifest, "- command: "+cmd+"\n") {
			t.Errorf("the manifest does not define %s", cmd)
		}
		if _, known := (&Adapter{}).request(slackgo.SlashCommand{Command: cmd}); !known {
			t.Errorf("the adapter does not serve %s", cmd)
		}
	}
	for _, want := range []string{"socket_mode_enabled: true", "      - commands\n", "      - chat:write\n"} {
		if !strings.Contains(manifest, want) {
			t.Errorf("the manifest lacks %q", want)
		}
	}
	if n := strings.Count(manifest, "should_escape: false"); n != 3 {
		t.Errorf("should_escape: false appears %d times, want 3", n)
	}
}

package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"
	slacknotify "github.com/wirewatch/wirewatch/notifiers/slack"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

const (
	botToken      = "xoxb-1111-secret-bot-token"
	appToken      = "xapp-1-secret-app-token"
	signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	adminID       = "U0ADMIN"
	userID        = "U0USER"
	channelID     = "C0NEWS"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stub is a commands.Handler that records requests and answers with scripted
// replies. With a gate it blocks until the gate closes or its context ends,
// which makes any command as slow as the test needs.
type stub struct {
	started    chan commands.Request // every request, as Handle begins
	cancelSeen chan struct{}         // a gated Handle saw its context end

	mu        sync.Mutex
	reqs      []commands.Request
	reply     func(commands.Request) commands.Reply
	gate      chan struct{}
	hold      chan struct{} // when non-nil, a cancelled Handle waits for it to close before returning
	inflight  int
	cancelled int
}

func newStub() *stub {
	return &stub{started: make(chan commands.Request, 64), cancelSeen: make(chan struct{}, 64), reply: echoReply}
}

// echoReply answers with the request's command, sub and args; only "/watch
// add" answers in the channel.
func echoReply(req commands.Request) commands.Reply {
	return commands.Reply{
		Ephemeral: !(req.Command == "watch" && req.Sub == "add"),
		Text:      strings.TrimSpace(fmt.Sprintf("%s %s: %s", req.Command, req.Sub, req.Args)),
		Items:     []commands.Item{{Title: "A story", URL: "https://example.com/a", Detail: "Example News"}},
		Footer:    "the footer",
	}
}

func (s *stub) Handle(ctx context.Context, req commands.Request) commands.Reply {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.inflight++
	gate, hold, reply := s.gate, s.hold, s.reply
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	s.started <- req
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			s.mu.Lock()
			s.cancelled++
			s.mu.Unlock()
			s.cancelSeen <- struct{}{}
			if hold != nil {
				<-hold
			}
			return commands.Reply{Ephemeral: true, Error: true, Text: "cancelled"}
		}
	}
	return reply(req)
}

func (s *stub) Complete(context.Context, commands.Request, string) []commands.Choice { return nil }

func (s *stub) setGate(g chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = g
}

// setHold makes a cancelled Handle wait for hold to close before it returns.
func (s *stub) setHold(hold chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = hold
}

func (s *stub) setReply(f func(commands.Request) commands.Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = f
}

func (s *stub) requests() []commands.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]commands.Request(nil), s.reqs...)
}

func (s *stub) counts() (inflight, cancelled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight, s.cancelled
}

// logBuffer collects an adapter's logs; the test fails if a secret shows in them.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
	}
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wait blocks until the logs contain s and returns the line that does.
func (b *logBuffer) wait(ctx context.Context, s string) (string, error) {
	for {
		b.mu.Lock()
		for line := range strings.Lines(b.buf.String()) {
			if strings.Contains(line, s) {
				b.mu.Unlock()
				return line, nil
			}
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("no %q in the logs: %w", s, ctx.Err())
		}
	}
}

func newLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	t.Cleanup(func() {
		out := logs.String()
		for _, secret := range []string{botToken, appToken, signingSecret} {
			if strings.Contains(out, secret) {
				t.Errorf("a secret is in the logs:\n%s", out)
			}
		}
		if t.Failed() {
			t.Logf("adapter logs:\n%s", out)
		}
	})
	return slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), logs
}

// notifierConfig is the settings of the "team" notifier, talking to fake.
func notifierConfig(fake *slackfake.Slack) *slacknotify.Config {
	return &slacknotify.Config{
		Token:         botToken,
		AppToken:      appToken,
		SigningSecret: signingSecret,
		APIURL:        fake.URL(),
		Admins:        []string{adminID},
	}
}

// slashCommand is the payload of a slash command, as Socket Mode sends it.
func slashCommand(fake *slackfake.Slack, command, text, user string) map[string]any {
	return map[string]any{
		"token":        "verification-token",
		"team_id":      slackfake.TeamID,
		"team_domain":  "wirewatch-fake",
		"channel_id":   channelID,
		"channel_name": "news",
		"user_id":      user,
		"user_name":    "ann",
		"command":      command,
		"text":         text,
		"api_app_id":   slackfake.AppID,
		"response_url": fake.ResponseURL(),
		"trigger_id":   "13345224609.738474920.8088930838d88f008e0",
	}
}

// reply is a slash command response as Slack reads it.
type reply struct {
	ResponseType string  `json:"response_type"`
	Text         string  `json:"text"`
	Blocks       []block `json:"blocks"`
}

type block struct {
	Type     string       `json:"type"`
	Text     *textObject  `json:"text"`
	Elements []textObject `json:"elements"`
}

type textObject struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim"`
}

func decodeReply(t *testing.T, raw []byte) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decode reply %s: %v", raw, err)
	}
	return r
}

// texts lists every text of the reply's blocks, in order.
func (r reply) texts() []string {
	var out []string
	for _, b := range r.Blocks {
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, e := range b.Elements {
			out = append(out, e.Text)
		}
	}
	return out
}

// wantEcho checks that r is echoReply's answer to req, rendered.
func wantEcho(t *testing.T, r reply, req commands.Request) {
	t.Helper()
	want := echoReply(req)
	wantType := "in_channel"
	if want.Ephemeral {
		wantType = "ephemeral"
	}
	if r.ResponseType != wantType {
		t.Errorf("response_type = %q, want %q", r.ResponseType, wantType)
	}
	text := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(want.Text)
	if r.Text != text {
		t.Errorf("text = %q, want %q", r.Text, text)
	}
	got := strings.Join(r.texts(), "\n")
	wantBlocks := strings.Join([]string{text, "<https://example.com/a|A story>", "Example News", "the footer"}, "\n")
	if got != wantBlocks {
		t.Errorf("block texts:\n%s\nwant:\n%s", got, wantBlocks)
	}
}

// wantWorking checks that r is the interim "working on it" answer.
func wantWorking(t *testing.T, raw []byte) {
	t.Helper()
	r := decodeReply(t, raw)
	if r.ResponseType != "ephemeral" || r.Text != "Working on it…" || len(r.Blocks) != 0 {
		t.Errorf("interim answer = %s, want an ephemeral \"Working on it…\"", raw)
	}
}

// commandCases are the commands every transport is tested with.
var commandCases = []struct {
	name          string
	command, text string
	user          string
	want          commands.Request // Command, Sub, Args, Admin
	slow          bool             // acknowledged first, answered through response_url
}{
	{name: "news", command: "/news", text: "election AND fraud", user: userID,
		want: commands.Request{Command: "news", Args: "election AND fraud"}, slow: true},
	{name: "news escaped by slack", command: "/news", text: "AT&amp;T &lt;merger&gt;", user: userID,
		want: commands.Request{Command: "news", Args: "AT&T <merger>"}, slow: true},
	{name: "watch add", command: "/watch", text: "add ukraine OR kyiv digest:daily", user: userID,
		want: commands.Request{Command: "watch", Sub: "add", Args: "ukraine OR kyiv digest:daily"}},
	{name: "watch add upper case", command: "/watch", text: "  ADD   nato ", user: userID,
		want: commands.Request{Command: "watch", Sub: "add", Args: "nato"}},
	{name: "watch list", command: "/watch", text: "list", user: userID,
		want: commands.Request{Command: "watch", Sub: "list"}},
	{name: "watch remove by author", command: "/watch", text: "remove 12", user: userID,
		want: commands.Request{Command: "watch", Sub: "remove", Args: "12"}},
	{name: "watch remove by admin", command: "/watch", text: "remove 12", user: adminID,
		want: commands.Request{Command: "watch", Sub: "remove", Args: "12", Admin: true}},
	{name: "watch pause", command: "/watch", text: "pause 7", user: userID,
		want: commands.Request{Command: "watch", Sub: "pause", Args: "7"}},
	{name: "watch resume", command: "/watch", text: "resume 7", user: adminID,
		want: commands.Request{Command: "watch", Sub: "resume", Args: "7", Admin: true}},
	{name: "watch test", command: "/watch", text: "test ukraine", user: userID,
		want: commands.Request{Command: "watch", Sub: "test", Args: "ukraine"}, slow: true},
	{name: "watch alone", command: "/watch", text: "", user: userID,
		want: commands.Request{Command: "watch", Sub: "help"}},
	{name: "sources list", command: "/sources", text: "list", user: userID,
		want: commands.Request{Command: "sources", Sub: "list"}, slow: true},
	{name: "sources add by admin", command: "/sources", text: "add <https://example.com/feed.xml>", user: adminID,
		want: commands.Request{Command: "sources", Sub: "add", Args: "https://example.com/feed.xml", Admin: true}, slow: true},
	{name: "sources add by user", command: "/sources", text: "add https://example.com/feed.xml", user: userID,
		want: commands.Request{Command: "sources", Sub: "add", Args: "https://example.com/feed.xml"}, slow: true},
	{name: "sources remove", command: "/sources", text: "remove BBC &amp; Co", user: adminID,
		want: commands.Request{Command: "sources", Sub: "remove", Args: "BBC & Co", Admin: true}},
}

// fullRequest completes a case's expected request with what every command carries.
func fullRequest(want commands.Request, user string) commands.Request {
	want.Platform = "slack"
	want.Notifier = "team"
	want.User = user
	want.UserName = "ann"
	want.Channel = channelID
	want.ChannelName = "news"
	return want
}

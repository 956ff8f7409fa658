package discord_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/bot/discord"
	"github.com/wirewatch/wirewatch/config"
	ndiscord "github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
)

const (
	botToken  = "MTAwMDAwMDAwMDAwMDAwMDAy.secret-bot-token"
	channelID = "300000000000000001"
	userID    = "200000000000000001"
	notifier  = "ops-discord"
)

// testNow is the clock of the HTTP endpoint in tests.
var testNow = time.Unix(1_800_000_000, 0)

// stub is a commands.Handler that records what it is asked and answers from
// a script. Without a script it answers a reply full of markdown and mass
// mentions, for the escaping checks.
type stub struct {
	calls     chan commands.Request // every Handle call
	completes chan completeCall     // every Complete call

	mu      sync.Mutex
	reply   func(ctx context.Context, req commands.Request) commands.Reply
	choices []commands.Choice
}

type completeCall struct {
	req     commands.Request
	partial string
}

func newStub() *stub {
	return &stub{calls: make(chan commands.Request, 100), completes: make(chan completeCall, 100)}
}

// Handle records req and answers with the scripted reply.
func (s *stub) Handle(ctx context.Context, req commands.Request) commands.Reply {
	s.calls <- req
	s.mu.Lock()
	reply := s.reply
	s.mu.Unlock()
	if reply != nil {
		return reply(ctx, req)
	}
	return markdownReply()
}

// Complete records the call and answers the scripted choices.
func (s *stub) Complete(_ context.Context, req commands.Request, partial string) []commands.Choice {
	s.completes <- completeCall{req: req, partial: partial}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.choices
}

func (s *stub) setReply(f func(ctx context.Context, req commands.Request) commands.Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = f
}

func (s *stub) setChoices(c []commands.Choice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.choices = c
}

// blockUntil makes Handle wait until release is closed (or its context
// ends), then answer the default reply.
func (s *stub) blockUntil(release <-chan struct{}) {
	s.setReply(func(ctx context.Context, req commands.Request) commands.Reply {
		select {
		case <-release:
			return markdownReply()
		case <-ctx.Done():
			return commands.Reply{Ephemeral: true, Error: true, Text: "cancelled: " + ctx.Err().Error()}
		}
	})
}

// next returns the next Handle call.
func (s *stub) next(t *testing.T, ctx context.Context) commands.Request {
	t.Helper()
	select {
	case req := <-s.calls:
		return req
	case <-ctx.Done():
		t.Fatalf("handler was not called: %v", ctx.Err())
		return commands.Request{}
	}
}

// assertNotCalled fails if the handler was called at all.
func (s *stub) assertNotCalled(t *testing.T) {
	t.Helper()
	if n := len(s.calls); n > 0 {
		t.Fatalf("handler was called %d times, want none (first: %+v)", n, <-s.calls)
	}
	if n := len(s.completes); n > 0 {
		t.Fatalf("Complete was called %d times, want none", n)
	}
}

// markdownReply is an ephemeral reply whose text and story title try to
// mention everyone and format themselves.
func markdownReply() commands.Reply {
	return commands.Reply{
		Ephemeral: true,
		Text:      "Found for @everyone:",
		Items: []commands.Item{
			{Title: "**Big** news <@&123>", URL: "https://example.com/a?x=(1)", Detail: "Reuters · 2h ago"},
			{Title: "No link", URL: "javascript:alert(1)", Detail: "AP"},
		},
		Footer: "2 stories @here",
	}
}

// checkMarkdownReply checks the embed rendered from markdownReply.
func checkMarkdownReply(t *testing.T, data responseData) {
	t.Helper()
	checkNoMentions(t, data.AllowedMentions)
	if len(data.Embeds) != 1 {
		t.Fatalf("embeds = %d, want 1", len(data.Embeds))
	}
	e := data.Embeds[0]
	want := "Found for @\u200beveryone:\n\n" +
		`[\*\*Big\*\* news \<@&123\>](https://example.com/a?x=%281%29) — Reuters · 2h ago` + "\n" +
		"No link — AP"
	if e.Description != want {
		t.Errorf("description =\n%q\nwant\n%q", e.Description, want)
	}
	if e.Footer == nil || e.Footer.Text != "2 stories @here" {
		t.Errorf("footer = %+v, want the footer text", e.Footer)
	}
	if e.Color != 0x5865F2 {
		t.Errorf("colour = %#x, want blurple", e.Color)
	}
}

// checkNoMentions checks that allowed_mentions was sent with "parse":[]
// and lists no users or roles.
func checkNoMentions(t *testing.T, raw json.RawMessage) {
	t.Helper()
	var am struct {
		Parse *[]string `json:"parse"`
		Users []string  `json:"users"`
		Roles []string  `json:"roles"`
	}
	if err := json.Unmarshal(raw, &am); err != nil || len(raw) == 0 {
		t.Fatalf("allowed_mentions = %s (%v)", raw, err)
	}
	if am.Parse == nil || len(*am.Parse) != 0 || len(am.Users) != 0 || len(am.Roles) != 0 {
		t.Errorf("allowed_mentions = %s, want parse [] and no users or roles", raw)
	}
}

// response is an interaction response (a callback body or an HTTP answer).
type response struct {
	Type int          `json:"type"`
	Data responseData `json:"data"`
}

type responseData struct {
	Flags           int             `json:"flags"`
	Content         string          `json:"content"`
	Embeds          []embed         `json:"embeds"`
	AllowedMentions json.RawMessage `json:"allowed_mentions"`
	Choices         []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"choices"`
}

type embed struct {
	Description string `json:"description"`
	Color       int    `json:"color"`
	Footer      *struct {
		Text string `json:"text"`
	} `json:"footer"`
}

// harness is an adapter running against a fake Discord.
type harness struct {
	fake    *discordfake.Discord
	stub    *stub
	adapter *discord.Adapter
	ctx     context.Context // the test's deadline
	priv    ed25519.PrivateKey
	logs    *syncBuffer

	callbacks, edits int // how many of each the test has consumed

	cancel context.CancelFunc
	done   chan error
}

type setup struct {
	guild   string
	http    bool // configure a public key
	options []discord.Option
}

// start points discordgo at a fresh fake, runs an adapter against it and
// waits until its commands are registered and its gateway is ready. The
// adapter is stopped when the test ends.
func start(t *testing.T, s setup) *harness {
	t.Helper()
	h := newHarness(t, s)
	h.run(t)
	if _, err := h.fake.WaitCommands(h.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.WaitIdentify(h.ctx, 1); err != nil {
		t.Fatal(err)
	}
	return h
}

// newHarness builds the adapter without running it.
func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	fake := discordfake.New(t)
	restore, err := ndiscord.SetAPIBase(fake.Base())
	if err != nil {
		t.Fatalf("SetAPIBase: %v", err)
	}
	t.Cleanup(restore)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)

	h := &harness{fake: fake, stub: newStub(), ctx: ctx, logs: &syncBuffer{}}
	h.adapter = newAdapter(t, h, s)
	return h
}

// newAdapter builds an adapter for h's fake, stub and logs.
func newAdapter(t *testing.T, h *harness, s setup) *discord.Adapter {
	t.Helper()
	cfg := &ndiscord.Config{
		Token:         config.Secret(botToken),
		ApplicationID: discordfake.AppID,
		GuildID:       s.guild,
	}
	if s.http {
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		h.priv = priv
		cfg.PublicKey = config.Secret(hex.EncodeToString(pub))
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := append([]discord.Option{discord.WithClock(func() time.Time { return testNow })}, s.options...)
	a, err := discord.New(notifier, cfg, h.stub, logger, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if strings.Contains(h.logs.String(), "secret-bot-token") {
			t.Errorf("logs hold the bot token:\n%s", h.logs.String())
		}
	})
	return a
}

// run starts Run; the test's cleanup stops it and checks it returned nil.
func (h *harness) run(t *testing.T) {
	t.Helper()
	runCtx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.adapter.Run(runCtx) }()
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// stop cancels Run and waits for it to return (once).
func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("Run did not return within 30s of cancel")
	}
}

// gateway sends interaction over the gateway and returns the callback it got.
func (h *harness) gateway(t *testing.T, interaction map[string]any) response {
	t.Helper()
	if err := h.fake.SendInteraction(h.ctx, interaction); err != nil {
		t.Fatal(err)
	}
	return h.nextCallback(t)
}

// nextCallback waits for the next interaction callback and decodes it.
func (h *harness) nextCallback(t *testing.T) response {
	t.Helper()
	cbs, err := h.fake.WaitCallbacks(h.ctx, h.callbacks+1)
	if err != nil {
		t.Fatal(err)
	}
	cb := cbs[h.callbacks]
	h.callbacks++
	var r response
	if err := cb.Decode(&r); err != nil {
		t.Fatalf("callback body: %v: %s", err, cb.Body)
	}
	return r
}

// nextEdit waits for the next edit of an interaction reply and decodes it.
func (h *harness) nextEdit(t *testing.T) (discordfake.Request, responseData) {
	t.Helper()
	eds, err := h.fake.WaitEdits(h.ctx, h.edits+1)
	if err != nil {
		t.Fatal(err)
	}
	ed := eds[h.edits]
	h.edits++
	var d responseData
	if err := ed.Decode(&d); err != nil {
		t.Fatalf("edit body: %v: %s", err, ed.Body)
	}
	return ed, d
}

// signed is an HTTP interaction request signed with key at ts.
func signed(t *testing.T, key ed25519.PrivateKey, ts time.Time, body []byte) *http.Request {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig := ed25519.Sign(key, append([]byte(stamp), body...))
	r := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	r.Header.Set("X-Signature-Timestamp", stamp)
	return r
}

// post serves r with the adapter's HTTP handler.
func (h *harness) post(t *testing.T, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	handler := h.adapter.HTTPHandler()
	if handler == nil {
		t.Fatal("HTTPHandler is nil")
	}
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	return w
}

// viaHTTP sends interaction as Discord would, signed now, and returns the
// decoded 200 answer.
func (h *harness) viaHTTP(t *testing.T, interaction map[string]any) response {
	t.Helper()
	w := h.post(t, signed(t, h.priv, testNow, mustJSON(t, interaction)))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var r response
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("answer: %v: %s", err, w.Body)
	}
	return r
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Option builders in the shape Discord sends interaction options.
func sub(name string, opts ...map[string]any) map[string]any {
	o := make([]any, 0, len(opts))
	for _, x := range opts {
		o = append(o, x)
	}
	return map[string]any{"name": name, "type": 1, "options": o}
}

func str(name, value string) map[string]any {
	return map[string]any{"name": name, "type": 3, "value": value}
}

func focused(name, value string) map[string]any {
	return map[string]any{"name": name, "type": 3, "value": value, "focused": true}
}

// waitGoroutinesGone polls until no goroutine's stack mentions any of
// frames: goroutines leave asynchronously after the connection they read
// from closes, and nothing else signals it.
func waitGoroutinesGone(t *testing.T, ctx context.Context, frames ...string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, f := range frames {
				if strings.Contains(g, f) {
					left = append(left, g)
					break
				}
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("goroutines left behind:\n%s", strings.Join(left, "\n\n"))
		}
	}
}

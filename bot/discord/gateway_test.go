package discord_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/bot/discord"
)

// Frames of the goroutines an adapter and its gateway session run.
var adapterFrames = []string{
	"wirewatch/bot/discord.(*Adapter)",
	"bwmarrin/discordgo.(*Session).listen",
	"bwmarrin/discordgo.(*Session).heartbeat",
	"bwmarrin/discordgo.(*Session).reconnect",
}

func TestGatewayResumesAfterReconnect(t *testing.T) {
	h := start(t, setup{})
	list := func() map[string]any { return h.fake.SlashCommand(channelID, userID, "watch", sub("list")) }

	if r := h.gateway(t, list()); r.Type != 4 {
		t.Fatalf("before reconnect: type %d, want 4", r.Type)
	}
	h.stub.next(t, h.ctx)

	if err := h.fake.Reconnect(); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.WaitResume(h.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if rs := h.fake.Resumes(); rs[0].SessionID != h.fake.Identifies()[0].SessionID || rs[0].Token != "Bot "+botToken {
		t.Errorf("resume = %+v, want the first session's", rs[0])
	}

	r := h.gateway(t, list())
	if r.Type != 4 || r.Data.Flags != 64 {
		t.Fatalf("after resume: type %d flags %d, want 4 and 64", r.Type, r.Data.Flags)
	}
	checkMarkdownReply(t, r.Data)
	if got := h.stub.next(t, h.ctx); got.Command != "watch" || got.Sub != "list" {
		t.Errorf("request after resume = %+v", got)
	}
	if n := len(h.fake.Identifies()); n != 1 {
		t.Errorf("identifies = %d, want 1: the session resumed, not restarted", n)
	}
}

func TestRunStopsCleanly(t *testing.T) {
	h := start(t, setup{http: true})
	// One command over each way in, answered, then shutdown.
	h.gateway(t, h.fake.SlashCommand(channelID, userID, "watch", sub("list")))
	h.viaHTTP(t, h.fake.SlashCommand(channelID, userID, "watch", sub("list")))

	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := h.fake.WaitGatewayClosed(h.ctx); err != nil {
		t.Fatal(err)
	}
	waitGoroutinesGone(t, h.ctx, adapterFrames...)

	// After shutdown the endpoint takes no new work.
	w := h.post(t, signed(t, h.priv, testNow, mustJSON(t, h.fake.SlashCommand(channelID, userID, "watch", sub("list")))))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: status %d, want 503", w.Code)
	}
}

func TestShutdownFinishesDeferredReplies(t *testing.T) {
	h := start(t, setup{http: true})
	release := make(chan struct{})
	h.stub.blockUntil(release)

	// A slow command over each way in, both deferred and both waiting.
	if r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "news", str("query", "a"))); r.Type != 5 {
		t.Fatalf("gateway: type %d, want 5", r.Type)
	}
	if r := h.viaHTTP(t, h.fake.SlashCommand(channelID, userID, "news", str("query", "b"))); r.Type != 5 {
		t.Fatalf("http: type %d, want 5", r.Type)
	}
	h.stub.next(t, h.ctx)
	h.stub.next(t, h.ctx)

	h.cancel()
	h.cancel = nil
	close(release)
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-h.ctx.Done():
		t.Fatal("Run did not return")
	}
	// Run returned only after both replies were edited in.
	if n := len(h.fake.Edits()); n != 2 {
		t.Errorf("edits when Run returned = %d, want 2", n)
	}
	waitGoroutinesGone(t, h.ctx, adapterFrames...)
}

func TestShutdownCancelsWorkAfterDrainTimeout(t *testing.T) {
	h := start(t, setup{options: []discord.Option{discord.WithDrainTimeout(time.Millisecond)}})
	never := make(chan struct{})
	cancelled := make(chan error, 1)
	h.stub.setReply(func(ctx context.Context, req commands.Request) commands.Reply {
		select {
		case <-never:
		case <-ctx.Done():
			cancelled <- ctx.Err()
		}
		return commands.Reply{Ephemeral: true, Error: true, Text: "cancelled"}
	})
	if r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "news", str("query", "a"))); r.Type != 5 {
		t.Fatalf("type %d, want 5", r.Type)
	}
	h.stub.next(t, h.ctx)
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case err := <-cancelled:
		if err != context.Canceled {
			t.Errorf("handler context ended with %v, want context.Canceled", err)
		}
	default:
		t.Error("Run returned while the handler was still running")
	}
	waitGoroutinesGone(t, h.ctx, adapterFrames...)
}

func TestFailedRepliesAreLoggedWithoutSecrets(t *testing.T) {
	h := start(t, setup{})
	ic := h.fake.SlashCommand(channelID, userID, "watch", sub("list"))
	itoken := ic["token"].(string)
	h.fake.FailNext("/interactions/", http.StatusBadRequest, nil,
		`{"message":"Invalid token Bot `+botToken+` for `+itoken+`","code":50027}`)
	if err := h.fake.SendInteraction(h.ctx, ic); err != nil {
		t.Fatal(err)
	}
	h.stub.next(t, h.ctx)
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "discord interaction response failed") || !strings.Contains(logs, "status 400") {
		t.Errorf("logs do not report the failed response:\n%s", logs)
	}
	for _, secret := range []string{botToken, "secret-bot-token", itoken} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q:\n%s", secret, logs)
		}
	}
}

// The shape cmd/wirewatch runs every chat adapter through.
var _ interface {
	Run(ctx context.Context) error
	HTTPHandler() http.Handler
	Close() error
} = (*discord.Adapter)(nil)

func TestCloseWithoutRunAndTwice(t *testing.T) {
	h := newHarness(t, setup{http: true})
	if err := h.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	w := h.post(t, signed(t, h.priv, testNow, mustJSON(t, h.fake.SlashCommand(channelID, userID, "watch", sub("list")))))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("after Close: status %d, want 503", w.Code)
	}
	h.stub.assertNotCalled(t)
}

func TestCloseAfterRun(t *testing.T) {
	h := start(t, setup{http: true})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if err := h.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	waitGoroutinesGone(t, h.ctx, adapterFrames...)
}

func TestCloseCancelsCommandsInFlight(t *testing.T) {
	h := start(t, setup{})
	never := make(chan struct{})
	h.stub.blockUntil(never)
	if r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "news", str("query", "a"))); r.Type != 5 {
		t.Fatalf("type %d, want 5", r.Type)
	}
	h.stub.next(t, h.ctx)
	// Close returns only once the blocked handler saw its context cancelled.
	if err := h.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitGoroutinesGone(t, h.ctx, adapterFrames...)
}

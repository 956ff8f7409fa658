package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

// socketRun is an adapter serving Socket Mode against a fake Slack.
type socketRun struct {
	fake *slackfake.Slack
	a    *Adapter
	stub *stub
	logs *logBuffer
	stop func() error // cancels Run and returns what it returned
}

// startSocket runs an adapter over Socket Mode until the test ends. setup
// may adjust the adapter before it runs.
func startSocket(t *testing.T, setup func(*Adapter)) *socketRun {
	t.Helper()
	fake := slackfake.New(t)
	st := newStub()
	logger, logs := newLogger(t)
	a, err := New("team", notifierConfig(fake), st, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if setup != nil {
		setup(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(15 * time.Second):
				runErr = fmt.Errorf("Run did not return 15 s after its context ended")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if err := fake.WaitConnections(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	return &socketRun{fake: fake, a: a, stub: st, logs: logs, stop: stop}
}

func TestSocketModeCommands(t *testing.T) {
	for _, tc := range commandCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			r := startSocket(t, nil)

			ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, tc.command, tc.text, tc.user))
			if err != nil {
				t.Fatal(err)
			}
			want := fullRequest(tc.want, tc.user)
			if tc.slow {
				wantWorking(t, ack)
				responses, err := r.fake.WaitResponses(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				wantEcho(t, decodeReply(t, responses[0]), want)
			} else {
				wantEcho(t, decodeReply(t, ack), want)
			}

			if err := r.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := r.stub.requests(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("handler got %+v\nwant [%+v]", got, want)
			}
			if !tc.slow && len(r.fake.Responses()) != 0 {
				t.Errorf("a fast command also posted to response_url: %s", r.fake.Responses())
			}
		})
	}
}

func TestSocketModeUnknownCommandAnswersHelp(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/wirewatch", "hello", userID))
	if err != nil {
		t.Fatal(err)
	}
	got := decodeReply(t, ack)
	if got.ResponseType != "ephemeral" || !strings.Contains(got.Text, "does not know the command /wirewatch") {
		t.Errorf("answer = %s, want an ephemeral help", ack)
	}
	if all := strings.Join(got.texts(), "\n"); !strings.Contains(all, "/news QUERY") || !strings.Contains(all, "/watch add") {
		t.Errorf("help lists no commands: %s", all)
	}
	if reqs := r.stub.requests(); len(reqs) != 0 {
		t.Errorf("handler called for an unknown command: %+v", reqs)
	}
}

// A slow command is acknowledged while its work is still running; the reply
// follows through response_url once the work is done.
func TestSocketModeSlowCommandAcksBeforeWorkEnds(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	gate := make(chan struct{})
	r.stub.setGate(gate)

	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "test ukraine", userID))
	if err != nil {
		t.Fatal(err)
	}
	wantWorking(t, ack)
	<-r.stub.started
	if inflight, _ := r.stub.counts(); inflight != 1 {
		t.Fatalf("handler in flight = %d when the ack came, want 1", inflight)
	}
	if n := r.fake.Calls("response_url"); n != 0 {
		t.Fatalf("response_url called %d times before the work ended", n)
	}

	close(gate)
	responses, err := r.fake.WaitResponses(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantEcho(t, decodeReply(t, responses[0]), fullRequest(commands.Request{Command: "watch", Sub: "test", Args: "ukraine"}, userID))
}

// A fast command whose handler overruns the ack budget is acknowledged with
// "working on it"; its reply follows through response_url.
func TestSocketModeFastCommandOverrunningGoesToResponseURL(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, func(a *Adapter) { a.ackWait = 20 * time.Millisecond })
	gate := make(chan struct{})
	r.stub.setGate(gate)

	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "add nato", userID))
	if err != nil {
		t.Fatal(err)
	}
	wantWorking(t, ack)
	close(gate)
	responses, err := r.fake.WaitResponses(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantEcho(t, decodeReply(t, responses[0]), fullRequest(commands.Request{Command: "watch", Sub: "add", Args: "nato"}, userID))
}

// A reply too big for a Socket Mode ack (20 KB) is acked empty and posted
// to response_url whole.
func TestSocketModeOversizedReplyGoesToResponseURL(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	r.stub.setReply(func(commands.Request) commands.Reply {
		var items []commands.Item
		for i := range 40 {
			items = append(items, commands.Item{
				Title:  fmt.Sprintf("rule %d: %s", i, strings.Repeat("ukraine OR ", 25)),
				Detail: strings.Repeat("matches & misses ", 30),
			})
		}
		return commands.Reply{Ephemeral: true, Text: "Rules of #news", Items: items}
	})

	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "list", userID))
	if err != nil {
		t.Fatal(err)
	}
	if len(ack) != 0 {
		t.Errorf("ack payload = %d bytes, want none", len(ack))
	}
	responses, err := r.fake.WaitResponses(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(responses[0]) < maxAck {
		t.Errorf("reply is %d bytes; the test wants one over the ack limit", len(responses[0]))
	}
	got := decodeReply(t, responses[0])
	if got.ResponseType != "ephemeral" || got.Text != "Rules of #news" || len(got.Blocks) != 1+2*24+1 {
		t.Errorf("reply: type %q, text %q, %d blocks", got.ResponseType, got.Text, len(got.Blocks))
	}
	if code := slackfake.CheckMessage(got.Text, blocksOf(t, responses[0])); code != "" {
		t.Errorf("Slack would refuse the reply: %s", code)
	}
}

// A dropped socket reconnects by itself and the next command is answered.
func TestSocketModeReconnects(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	if _, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "list", userID)); err != nil {
		t.Fatal(err)
	}

	r.fake.Disconnect()
	if err := r.fake.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/watch", "pause 3", userID))
	if err != nil {
		t.Fatal(err)
	}
	wantEcho(t, decodeReply(t, ack), fullRequest(commands.Request{Command: "watch", Sub: "pause", Args: "3"}, userID))
	if logs := r.logs.String(); !strings.Contains(logs, "slack socket mode reconnected") {
		t.Errorf("no reconnect in the logs:\n%s", logs)
	}
}

// Shutdown cancels the work in flight and waits for it: Run returns with no
// handler still running and no reply posted.
func TestSocketModeShutdownCancelsWorkInFlight(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	r.stub.setGate(make(chan struct{})) // never opens
	hold := make(chan struct{})
	r.stub.setHold(hold)

	ack, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/news", "election", userID))
	if err != nil {
		t.Fatal(err)
	}
	wantWorking(t, ack)
	<-r.stub.started

	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	<-r.stub.cancelSeen // the handler saw the cancel and is still running
	// Run must not return while the handler runs. A correct Run never does;
	// the short window only gives a wrong one the time to show itself.
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) while a handler was still running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(hold)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Run did not return after the handler finished")
	}
	if inflight, cancelled := r.stub.counts(); inflight != 0 || cancelled != 1 {
		t.Errorf("after Run: %d handlers in flight, %d cancelled; want 0 and 1", inflight, cancelled)
	}
	if n := r.fake.Calls("response_url"); n != 0 {
		t.Errorf("response_url called %d times after shutdown", n)
	}
}

func TestSocketModeRetriesResponseURLOnceOn5xx(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, func(a *Adapter) { a.retryDelay = time.Millisecond })
	r.fake.FailNext("response_url", http.StatusServiceUnavailable, nil, "busy")

	if _, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/news", "election", userID)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fake.WaitResponses(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := r.fake.Calls("response_url"); n != 2 {
		t.Errorf("response_url called %d times, want 2 (one 503, one retry)", n)
	}
}

func TestSocketModeDoesNotRetryResponseURLOn4xx(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, func(a *Adapter) { a.retryDelay = time.Millisecond })
	r.fake.FailNext("response_url", http.StatusNotFound, nil, "expired_url")

	if _, err := r.fake.SendSlashCommand(ctx, slashCommand(r.fake, "/news", "election", userID)); err != nil {
		t.Fatal(err)
	}
	line, err := r.logs.wait(ctx, "slack reply to response_url failed")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "attempts=1") || !strings.Contains(line, "status=404") {
		t.Errorf("log line %q, want one attempt that got 404", line)
	}
	if n := r.fake.Calls("response_url"); n != 1 {
		t.Errorf("response_url called %d times, want 1", n)
	}
}

// A response_url that is neither on a Slack domain nor at api_url is not
// posted to.
func TestSocketModeIgnoresForeignResponseURL(t *testing.T) {
	ctx := testContext(t)
	r := startSocket(t, nil)
	foreign := notifiertest.NewReceiver(t)
	cmd := slashCommand(r.fake, "/news", "election", userID)
	cmd["response_url"] = foreign.URL() + "/hook"

	if _, err := r.fake.SendSlashCommand(ctx, cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := r.logs.wait(ctx, "response_url is not a Slack URL"); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if got := foreign.Requests(); len(got) != 0 {
		t.Errorf("posted %d replies to a foreign host", len(got))
	}
}

func TestRunRefusedAppTokenReturnsError(t *testing.T) {
	fake := slackfake.New(t)
	fake.SetTokens("", "xapp-another-token")
	logger, _ := newLogger(t)
	a, err := New("team", notifierConfig(fake), newStub(), logger)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("Run = %v, want invalid_auth", err)
	}
	notifiertest.AssertNoSecretLeak(t, err, botToken, appToken, signingSecret)
}

func TestRunWithoutAppTokenReturnsAtOnce(t *testing.T) {
	fake := slackfake.New(t)
	cfg := notifierConfig(fake)
	cfg.AppToken = ""
	a, err := New("team", cfg, newStub(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(testContext(t)); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if n := fake.Calls("apps.connections.open"); n != 0 {
		t.Errorf("apps.connections.open called %d times without an app token", n)
	}
}

func blocksOf(t *testing.T, raw []byte) json.RawMessage {
	t.Helper()
	var m struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.Blocks
}

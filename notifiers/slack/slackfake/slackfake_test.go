package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
	"github.com/wirewatch/wirewatch/notifiers/slack/slackfake"
)

func slackTestContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// runSlackSocketMode runs a real socketmode client against fake until the test
// ends. It acks every slash command with {"text":"ack " + command text} and
// passes the command on.
func runSlackSocketMode(t *testing.T, fake *slackfake.Slack) (commands <-chan slack.SlashCommand, hellos <-chan struct{}) {
	t.Helper()
	api := slack.New("xoxb-bot-token",
		slack.OptionAPIURL(fake.URL()),
		slack.OptionAppLevelToken("xapp-app-token"))
	smc := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	cmds := make(chan slack.SlashCommand, 16)
	hello := make(chan struct{}, 16)

	var wg sync.WaitGroup
	runErr := make(chan error, 1)
	wg.Go(func() { runErr <- smc.RunContext(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-smc.Events:
				switch evt.Type {
				case socketmode.EventTypeHello:
					hello <- struct{}{}
				case socketmode.EventTypeSlashCommand:
					cmd, ok := evt.Data.(slack.SlashCommand)
					if !ok {
						t.Errorf("slash command event data is %T", evt.Data)
						continue
					}
					if err := smc.Ack(*evt.Request, map[string]string{"text": "ack " + cmd.Text}); err != nil {
						t.Errorf("ack: %v", err)
					}
					cmds <- cmd
				}
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := <-runErr; !errors.Is(err, context.Canceled) {
			t.Errorf("RunContext returned %v, want context.Canceled", err)
		}
	})
	return cmds, hello
}

func TestSlackSocketModeSlashCommandAndReconnect(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	fake.SetPingInterval(20 * time.Millisecond)
	commands, hellos := runSlackSocketMode(t, fake)

	if err := fake.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hellos:
	case <-ctx.Done():
		t.Fatal("client reported no hello")
	}

	send := func(text string) {
		t.Helper()
		ack, err := fake.SendSlashCommand(ctx, slack.SlashCommand{
			Command: "/news", Text: text, UserID: "U1", ChannelID: "C1",
			TeamID: slackfake.TeamID, ResponseURL: fake.ResponseURL(), TriggerID: "t1",
		})
		if err != nil {
			t.Fatalf("SendSlashCommand(%q): %v", text, err)
		}
		notifiertest.JSONEq(t, `{"text":"ack `+text+`"}`, string(ack))
		select {
		case cmd := <-commands:
			if cmd.Command != "/news" || cmd.Text != text || cmd.ResponseURL != fake.ResponseURL() {
				t.Errorf("client got %+v", cmd)
			}
		case <-ctx.Done():
			t.Fatalf("client got no command %q", text)
		}
	}
	send("nvidia china")

	// The client answers the fake's pings with pongs.
	if err := fake.WaitPongs(ctx, 1); err != nil {
		t.Fatal(err)
	}

	fake.Disconnect()
	if err := fake.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	send("after reconnect")
	if got := fake.Calls("apps.connections.open"); got < 2 {
		t.Errorf("apps.connections.open called %d times, want at least 2", got)
	}
}

func TestSlackSocketModeAckTimesOut(t *testing.T) {
	fake := slackfake.New(t)
	ctx, cancel := context.WithCancel(slackTestContext(t))
	cancel()
	if _, err := fake.SendSlashCommand(ctx, map[string]string{"command": "/news"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("SendSlashCommand without a client: %v, want context.Canceled", err)
	}
}

func TestSlackSocketModeRejectsBadAppToken(t *testing.T) {
	fake := slackfake.New(t)
	api := slack.New("xoxb-bot", slack.OptionAPIURL(fake.URL()), slack.OptionAppLevelToken("xoxb-not-an-app-token"))
	_, _, err := api.StartSocketModeContext(slackTestContext(t))
	if err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("StartSocketMode with a bot token as app token: %v, want invalid_auth", err)
	}
}

func TestSlackPostMessageRecorded(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	api := slack.New("xoxb-bot", slack.OptionAPIURL(fake.URL()))

	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*hi*", false, false), nil, nil)}
	ch, ts, err := api.PostMessageContext(ctx, "C1",
		slack.MsgOptionText("hi", false), slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionTS("1699999999.000001"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := fake.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if ch != "C1" || ts != m.TS || ts == "" {
		t.Errorf("PostMessage returned (%q, %q), fake recorded ts %q", ch, ts, m.TS)
	}
	if m.Channel != "C1" || m.Text != "hi" || m.Token != "xoxb-bot" || m.ThreadTS != "1699999999.000001" ||
		m.UnfurlLinks != "false" || m.UnfurlMedia != "" || m.Method != "chat.postMessage" {
		t.Errorf("recorded %+v", m)
	}
	notifiertest.JSONEq(t, `[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]`, string(m.Blocks))
}

func TestSlackRejectsWhatSlackRejects(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	api := slack.New("xoxb-bot", slack.OptionAPIURL(fake.URL()))
	section := func(text string) slack.Block {
		return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
	}
	many := make([]slack.Block, 51)
	for i := range many {
		many[i] = section("x")
	}
	tests := []struct {
		name string
		opts []slack.MsgOption
		want string
	}{
		{"51 blocks", []slack.MsgOption{slack.MsgOptionBlocks(many...)}, "invalid_blocks"},
		{"3001-char text object", []slack.MsgOption{slack.MsgOptionBlocks(section(strings.Repeat("é", 3001)))}, "invalid_blocks"},
		{"long emoji text counts UTF-16", []slack.MsgOption{slack.MsgOptionBlocks(section(strings.Repeat("😀", 1501)))}, "invalid_blocks"},
		{"header over 150", []slack.MsgOption{slack.MsgOptionBlocks(slack.NewHeaderBlock(
			slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("h", 151), false, false)))}, "invalid_blocks"},
		{"text over 40000", []slack.MsgOption{slack.MsgOptionText(strings.Repeat("t", 40001), false)}, "msg_too_long"},
		{"no text", []slack.MsgOption{slack.MsgOptionText(" ", false)}, "no_text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := api.PostMessageContext(ctx, "C1", tt.opts...)
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("fake recorded %d rejected messages", n)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionBlocks(section(strings.Repeat("é", 3000)))); err != nil {
		t.Errorf("3000-char text object: %v", err)
	}
}

func TestSlackScriptedFailures(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	api := slack.New("xoxb-bot", slack.OptionAPIURL(fake.URL()))

	fake.FailNext("chat.postMessage", http.StatusTooManyRequests, map[string]string{"Retry-After": "2"}, "")
	fake.FailNext("chat.postMessage", http.StatusInternalServerError, nil, "<html>oops</html>")
	fake.FailNextError("chat.postMessage", "channel_not_found")

	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("a", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("first: %v, want a rate limit of 2s", err)
	}
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("b", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 500 {
		t.Errorf("second: %v, want status 500", err)
	}
	_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("c", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "channel_not_found" {
		t.Errorf("third: %v, want channel_not_found", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("d", false)); err != nil {
		t.Errorf("fourth: %v, want success once the script is used up", err)
	}
	if got := fake.Calls("chat.postMessage"); got != 4 {
		t.Errorf("Calls = %d, want 4", got)
	}
	if msgs := fake.Messages(); len(msgs) != 1 || msgs[0].Text != "d" {
		t.Errorf("messages = %+v, want only d", msgs)
	}
}

func TestSlackChannels(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	fake.SetPageSize(2)
	fake.SetChannels(
		slackfake.Channel{ID: "C1", Name: "general"},
		slackfake.Channel{ID: "C2", Name: "ai-policy"},
		slackfake.Channel{ID: "G3", Name: "secret", IsPrivate: true},
		slackfake.Channel{ID: "C4", Name: "old", IsArchived: true},
		slackfake.Channel{ID: "C5", Name: "outside", NotMember: true},
	)
	api := slack.New("xoxb-bot", slack.OptionAPIURL(fake.URL()))

	var names []string
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true}
	for {
		chans, next, err := api.GetConversationsContext(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if len(chans) > 2 {
			t.Errorf("page of %d channels, want at most 2", len(chans))
		}
		for _, c := range chans {
			names = append(names, c.Name)
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	if got := strings.Join(names, ","); got != "general,ai-policy,secret,outside" {
		t.Errorf("listed %s", got)
	}
	if got := fake.Calls("conversations.list"); got != 2 {
		t.Errorf("conversations.list called %d times, want 2 pages", got)
	}

	for ch, want := range map[string]string{"C9": "channel_not_found", "C4": "is_archived", "C5": "not_in_channel"} {
		_, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("x", false))
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != want {
			t.Errorf("post to %s: %v, want %s", ch, err, want)
		}
	}
	if ch, _, err := api.PostMessageContext(ctx, "#ai-policy", slack.MsgOptionText("x", false)); err != nil || ch != "C2" {
		t.Errorf("post to #ai-policy: (%q, %v), want C2", ch, err)
	}
}

func TestSlackAuthAndTokens(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	fake.SetTokens("xoxb-right", "xapp-right")

	resp, err := slack.New("xoxb-right", slack.OptionAPIURL(fake.URL())).AuthTestContext(ctx)
	if err != nil || resp.UserID != slackfake.BotUserID || resp.TeamID != slackfake.TeamID {
		t.Errorf("auth.test: %+v, %v", resp, err)
	}
	_, err = slack.New("xoxb-wrong", slack.OptionAPIURL(fake.URL())).AuthTestContext(ctx)
	if err == nil || err.Error() != "invalid_auth" {
		t.Errorf("auth.test with a wrong token: %v, want invalid_auth", err)
	}
}

func TestSlackEphemeralAndResponseURL(t *testing.T) {
	ctx := slackTestContext(t)
	fake := slackfake.New(t)
	api := slack.New("xoxb-bot", slack.OptionAPIURL(fake.URL()))

	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Fatal(err)
	}
	eph, err := fake.WaitEphemerals(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if eph[0].Channel != "C1" || eph[0].User != "U1" || eph[0].Text != "only you" {
		t.Errorf("ephemeral = %+v", eph[0])
	}

	err = slack.PostWebhookCustomHTTPContext(ctx, fake.ResponseURL(), http.DefaultClient,
		&slack.WebhookMessage{Text: "later", ResponseType: slack.ResponseTypeEphemeral})
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := fake.WaitResponses(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(bodies[0], &got); err != nil || got["text"] != "later" || got["response_type"] != "ephemeral" {
		t.Errorf("response_url body %s (%v)", bodies[0], err)
	}

	fake.FailNext("response_url", http.StatusNotFound, nil, "expired_url")
	err = slack.PostWebhookCustomHTTPContext(ctx, fake.ResponseURL(), http.DefaultClient, &slack.WebhookMessage{Text: "too late"})
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Errorf("scripted response_url failure: %v, want 404", err)
	}
}

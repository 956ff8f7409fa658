package discordfake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
)

// fakeDiscord starts the fake and points discordgo at it for this test.
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

func discordTestContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func restSession(t *testing.T) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot fake-token")
	if err != nil {
		t.Fatal(err)
	}
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.Client = &http.Client{Timeout: 10 * time.Second}
	return s
}

func TestDiscordGatewayInteractionAndResume(t *testing.T) {
	d := fakeDiscord(t)
	ctx := discordTestContext(t)

	s := restSession(t)
	ready := make(chan *discordgo.Ready, 1)
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		select {
		case ready <- r:
		default:
		}
	})
	type handled struct {
		name, channel, user string
		err                 error
	}
	results := make(chan handled, 4)
	s.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		h := handled{name: i.ApplicationCommandData().Name, channel: i.ChannelID}
		if i.Member != nil && i.Member.User != nil {
			h.user = i.Member.User.ID
		}
		h.err = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "pong", Flags: discordgo.MessageFlagsEphemeral},
		})
		results <- h
	})
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })

	select {
	case r := <-ready:
		if r.SessionID != "S1" || r.User == nil || r.User.ID != discordfake.BotID || r.Application == nil || r.Application.ID != discordfake.AppID {
			t.Errorf("READY = session %q user %+v application %+v", r.SessionID, r.User, r.Application)
		}
	case <-ctx.Done():
		t.Fatal("READY never reached the handler")
	}
	if err := d.WaitIdentify(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if ids := d.Identifies(); len(ids) != 1 || ids[0].Token != "Bot fake-token" {
		t.Errorf("identifies = %+v, want one with the bot token", ids)
	}
	if err := d.WaitHeartbeats(ctx, 1); err != nil {
		t.Fatal(err)
	}

	interact := func(n int, name string) {
		t.Helper()
		if err := d.SendInteraction(ctx, d.SlashCommand("200", "300", name)); err != nil {
			t.Fatalf("SendInteraction: %v", err)
		}
		var h handled
		select {
		case h = <-results:
		case <-ctx.Done():
			t.Fatalf("interaction %d never reached the handler", n)
		}
		if h.err != nil {
			t.Fatalf("InteractionRespond: %v", h.err)
		}
		if h.name != name || h.channel != "200" || h.user != "300" {
			t.Errorf("handler saw %+v", h)
		}
		cbs, err := d.WaitCallbacks(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		var resp discordgo.InteractionResponse
		if err := cbs[n-1].Decode(&resp); err != nil {
			t.Fatalf("decode callback: %v", err)
		}
		if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data == nil ||
			resp.Data.Flags != discordgo.MessageFlagsEphemeral || resp.Data.Content != "pong" {
			t.Errorf("callback = %s", cbs[n-1].Body)
		}
		if cbs[n-1].Status != http.StatusNoContent || cbs[n-1].Params["token"] == "" {
			t.Errorf("callback answered %d with params %v", cbs[n-1].Status, cbs[n-1].Params)
		}
	}
	interact(1, "news")

	if err := d.Reconnect(); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitResume(ctx, 1); err != nil {
		t.Fatal(err)
	}
	rs := d.Resumes()
	if len(rs) != 1 || rs[0].SessionID != "S1" || rs[0].Token != "Bot fake-token" || rs[0].Seq < 2 {
		t.Errorf("resumes = %+v, want one of session S1 at sequence >= 2", rs)
	}
	if n := len(d.Identifies()); n != 1 {
		t.Errorf("identifies after op 7 = %d, want 1 (the client should resume)", n)
	}
	interact(2, "watch")
}

func TestDiscordREST(t *testing.T) {
	d := fakeDiscord(t)
	ctx := discordTestContext(t)
	s := restSession(t)

	cmds := []*discordgo.ApplicationCommand{{Name: "news", Description: "Search stories"}}
	got, err := s.ApplicationCommandBulkOverwrite(discordfake.AppID, "", cmds)
	if err != nil {
		t.Fatalf("global overwrite: %v", err)
	}
	if len(got) != 1 || got[0].ID == "" || got[0].Name != "news" {
		t.Errorf("global overwrite returned %+v", got)
	}
	if _, err := s.ApplicationCommandBulkOverwrite(discordfake.AppID, discordfake.GuildID, cmds); err != nil {
		t.Fatalf("guild overwrite: %v", err)
	}
	recorded, err := d.WaitCommands(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if recorded[0].Params["guild"] != "" || recorded[1].Params["guild"] != discordfake.GuildID {
		t.Errorf("command routes = %v, %v", recorded[0].Params, recorded[1].Params)
	}
	list, err := s.ApplicationCommands(discordfake.AppID, discordfake.GuildID)
	if err != nil || len(list) != 1 || list[0].Name != "news" {
		t.Errorf("ApplicationCommands = %+v, %v", list, err)
	}

	in := &discordgo.Interaction{AppID: discordfake.AppID, ID: "1", Token: "itoken-1"}
	content := "done"
	if _, err := s.InteractionResponseEdit(in, &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatalf("edit original: %v", err)
	}
	if edits := d.Edits(); len(edits) != 1 || edits[0].Params["message"] != "@original" || edits[0].Method != http.MethodPatch {
		t.Errorf("edits = %+v", edits)
	}
	m, err := s.FollowupMessageCreate(in, true, &discordgo.WebhookParams{Content: "more"})
	if err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	msgs, err := d.WaitMessages(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != msgs[0].ID || msgs[0].Params["webhook"] != discordfake.AppID || msgs[0].Query.Get("wait") != "true" {
		t.Errorf("follow-up recorded as %+v, returned id %q", msgs[0], m.ID)
	}

	d.FailNext("/api/v10/channels/", http.StatusTooManyRequests, map[string]string{"Retry-After": "2"},
		`{"message":"You are being rate limited.","retry_after":1.5,"global":false}`)
	_, err = s.ChannelMessageSend("42", "hi")
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 1500*time.Millisecond {
		t.Fatalf("scripted 429: err = %v, want a RateLimitError after 1.5s", err)
	}
	d.FailNext("/channels/42", http.StatusInternalServerError, nil, `{"message":"boom","code":0}`)
	_, err = s.ChannelMessageSend("42", "hi")
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusInternalServerError {
		t.Fatalf("scripted 500: err = %v", err)
	}
	if _, err := s.ChannelMessageSend("42", "hi"); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
	if n := len(d.Messages()); n != 2 {
		t.Errorf("accepted messages = %d, want 2 (failed requests are not messages)", n)
	}
	reqs := d.Requests()
	if last := reqs[len(reqs)-1]; last.Status != http.StatusOK || last.Header.Get("Authorization") != "Bot fake-token" {
		t.Errorf("last request: status %d, authorization %q", last.Status, last.Header.Get("Authorization"))
	}

	_, err = s.Channel("42")
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: err = %v, want a 404", err)
	}
}

func TestDiscordWaitEndsWithContext(t *testing.T) {
	d := discordfake.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := d.WaitMessages(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitMessages = %v, want context.Canceled", err)
	}
	if err := d.SendInteraction(ctx, d.SlashCommand("1", "2", "news")); !errors.Is(err, context.Canceled) {
		t.Errorf("SendInteraction without a connection = %v, want context.Canceled", err)
	}
	if err := d.Reconnect(); err == nil {
		t.Error("Reconnect without a connection: want an error")
	}
	d.Close()
	d.Close()
}

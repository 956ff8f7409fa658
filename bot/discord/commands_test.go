package discord_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/bot/discord"
	ndiscord "github.com/wirewatch/wirewatch/notifiers/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
	"github.com/wirewatch/wirewatch/notifiers/notifiertest"
)

// commandCase is one slash command as a user sends it and the request the
// handler should see.
type commandCase struct {
	name    string
	command string
	options []map[string]any
	admin   bool // the caller has Manage Channels
	want    commands.Request
	slow    bool // answered by deferral and an edit
}

func commandCases() []commandCase {
	req := func(command, sub, args string, admin bool) commands.Request {
		return commands.Request{
			Platform: "discord", Notifier: notifier, Command: command, Sub: sub, Args: args,
			User: userID, UserName: "user" + userID, Channel: channelID, Admin: admin,
		}
	}
	return []commandCase{
		{name: "news", command: "news",
			options: []map[string]any{str("query", "nvidia AND china"), str("since", "7d")},
			want:    req("news", "", "nvidia AND china since:7d", false), slow: true},
		{name: "news without since", command: "news",
			options: []map[string]any{str("query", `"stock price"`)},
			want:    req("news", "", `"stock price"`, false), slow: true},
		{name: "watch add", command: "watch",
			options: []map[string]any{sub("add", str("query", "nvidia AND (china OR beijing)"))},
			want:    req("watch", "add", "nvidia AND (china OR beijing)", false)},
		{name: "watch add digest", command: "watch",
			options: []map[string]any{sub("add", str("query", "openai"), str("digest", "daily"))},
			want:    req("watch", "add", "openai digest:daily", false)},
		{name: "watch list", command: "watch",
			options: []map[string]any{sub("list")},
			want:    req("watch", "list", "", false)},
		{name: "watch remove", command: "watch",
			options: []map[string]any{sub("remove", str("id", "12"))},
			want:    req("watch", "remove", "12", false)},
		{name: "watch pause", command: "watch",
			options: []map[string]any{sub("pause", str("id", "12"))},
			want:    req("watch", "pause", "12", false)},
		{name: "watch resume", command: "watch",
			options: []map[string]any{sub("resume", str("id", "12"))},
			want:    req("watch", "resume", "12", false)},
		{name: "watch test", command: "watch",
			options: []map[string]any{sub("test", str("query", "tsmc"))},
			want:    req("watch", "test", "tsmc", false), slow: true},
		{name: "sources list", command: "sources",
			options: []map[string]any{sub("list")},
			want:    req("sources", "list", "", false), slow: true},
		{name: "sources add", command: "sources", admin: true,
			options: []map[string]any{sub("add", str("url", "https://example.com/feed.xml"), str("name", `Example "News"`))},
			want:    req("sources", "add", `https://example.com/feed.xml name:"Example 'News'"`, true), slow: true},
		{name: "sources remove", command: "sources", admin: true,
			options: []map[string]any{sub("remove", str("name", "Example News"))},
			want:    req("sources", "remove", "Example News", true)},
	}
}

func (c commandCase) interaction(fake *discordfake.Discord) map[string]any {
	ic := fake.SlashCommand(channelID, userID, c.command, c.options...)
	if c.admin {
		discordfake.WithPermissions(ic, discordgo.PermissionManageChannels)
	}
	return ic
}

// checkFirst checks the first answer to a command: the reply itself (type
// 4) for a fast command, an ephemeral deferral (type 5) for a slow one.
func checkFirst(t *testing.T, c commandCase, r response) {
	t.Helper()
	if c.slow {
		if r.Type != 5 {
			t.Fatalf("type = %d, want 5 (deferred)", r.Type)
		}
		if r.Data.Flags != 64 {
			t.Errorf("deferral flags = %d, want 64 (ephemeral)", r.Data.Flags)
		}
		return
	}
	if r.Type != 4 {
		t.Fatalf("type = %d, want 4 (message)", r.Type)
	}
	if r.Data.Flags != 64 {
		t.Errorf("flags = %d, want 64 (ephemeral)", r.Data.Flags)
	}
	checkMarkdownReply(t, r.Data)
}

func TestCommandsOverGateway(t *testing.T) {
	h := start(t, setup{})
	for _, c := range commandCases() {
		t.Run(c.name, func(t *testing.T) {
			r := h.gateway(t, c.interaction(h.fake))
			if got := h.stub.next(t, h.ctx); got != c.want {
				t.Errorf("request =\n%+v\nwant\n%+v", got, c.want)
			}
			checkFirst(t, c, r)
			if c.slow {
				ed, data := h.nextEdit(t)
				if ed.Method != http.MethodPatch || !strings.HasSuffix(ed.Route, "/messages/@original") ||
					ed.Params["webhook"] != discordfake.AppID || !strings.HasPrefix(ed.Params["token"], "itoken-") {
					t.Errorf("edit %s %s, want PATCH webhooks/APP/TOKEN/messages/@original", ed.Method, ed.Route)
				}
				checkMarkdownReply(t, data)
			}
		})
	}
	if n := len(h.fake.Edits()); n != h.edits {
		t.Errorf("edits = %d, want %d (one per slow command)", n, h.edits)
	}
}

func TestCommandsOverHTTP(t *testing.T) {
	h := start(t, setup{http: true})
	for _, c := range commandCases() {
		t.Run(c.name, func(t *testing.T) {
			r := h.viaHTTP(t, c.interaction(h.fake))
			if got := h.stub.next(t, h.ctx); got != c.want {
				t.Errorf("request =\n%+v\nwant\n%+v", got, c.want)
			}
			checkFirst(t, c, r)
			if c.slow {
				ed, data := h.nextEdit(t)
				if ed.Method != http.MethodPatch || !strings.HasSuffix(ed.Route, "/messages/@original") {
					t.Errorf("edit %s %s, want PATCH …/messages/@original", ed.Method, ed.Route)
				}
				checkMarkdownReply(t, data)
			}
		})
	}
	if n := len(h.fake.Callbacks()); n != 0 {
		t.Errorf("REST callbacks = %d, want 0: over HTTP the first answer is the response body", n)
	}
}

func TestPublicReplyHasNoEphemeralFlag(t *testing.T) {
	h := start(t, setup{})
	h.stub.setReply(func(context.Context, commands.Request) commands.Reply {
		return commands.Reply{Text: "Rule 7 added: nvidia"}
	})
	r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "watch", sub("add", str("query", "nvidia"))))
	h.stub.next(t, h.ctx)
	if r.Type != 4 || r.Data.Flags != 0 {
		t.Errorf("type %d flags %d, want 4 and no flags", r.Type, r.Data.Flags)
	}
	checkNoMentions(t, r.Data.AllowedMentions)
	if len(r.Data.Embeds) != 1 || r.Data.Embeds[0].Description != "Rule 7 added: nvidia" {
		t.Errorf("embeds = %+v", r.Data.Embeds)
	}
}

func TestErrorReplyIsRed(t *testing.T) {
	h := start(t, setup{})
	h.stub.setReply(func(context.Context, commands.Request) commands.Reply {
		return commands.Reply{Ephemeral: true, Error: true, Text: "query: column 5: unexpected AND"}
	})
	r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "watch", sub("add", str("query", "a AND AND b"))))
	h.stub.next(t, h.ctx)
	if len(r.Data.Embeds) != 1 || r.Data.Embeds[0].Color != 0xE74C3C {
		t.Fatalf("embeds = %+v, want one red embed", r.Data.Embeds)
	}
}

func TestSlowCommandDefersUntilHandlerReturns(t *testing.T) {
	h := start(t, setup{})
	release := make(chan struct{})
	h.stub.blockUntil(release)

	r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "news", str("query", "nvidia")))
	if r.Type != 5 || r.Data.Flags != 64 {
		t.Fatalf("first answer type %d flags %d, want 5 and 64", r.Type, r.Data.Flags)
	}
	h.stub.next(t, h.ctx)
	if n := len(h.fake.Edits()); n != 0 {
		t.Fatalf("edits = %d before the handler returned", n)
	}
	close(release)
	_, data := h.nextEdit(t)
	checkMarkdownReply(t, data)
}

func TestFastCommandThatOverrunsIsDeferred(t *testing.T) {
	// /watch list is expected to be fast; a handler that is not gets
	// deferred once deferAfter passes (2 s by default, 1 ms here).
	h := start(t, setup{options: []discord.Option{discord.WithDeferAfter(time.Millisecond)}})
	release := make(chan struct{})
	h.stub.blockUntil(release)

	r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "watch", sub("list")))
	if r.Type != 5 || r.Data.Flags != 64 {
		t.Fatalf("first answer type %d flags %d, want 5 and 64", r.Type, r.Data.Flags)
	}
	close(release)
	_, data := h.nextEdit(t)
	checkMarkdownReply(t, data)
}

func TestAdminFromMemberPermissions(t *testing.T) {
	h := start(t, setup{})
	for _, tc := range []struct {
		name  string
		perms int64
		admin bool
	}{
		{"no permissions", 0, false},
		{"send messages only", discordgo.PermissionSendMessages | discordgo.PermissionViewChannel, false},
		{"manage channels", discordgo.PermissionManageChannels, true},
		{"administrator", discordgo.PermissionAdministrator, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ic := discordfake.WithPermissions(h.fake.SlashCommand(channelID, userID, "watch", sub("remove", str("id", "3"))), tc.perms)
			h.gateway(t, ic)
			if got := h.stub.next(t, h.ctx); got.Admin != tc.admin {
				t.Errorf("Admin = %v, want %v", got.Admin, tc.admin)
			}
		})
	}
}

func TestSourcesChangesNeedManageChannels(t *testing.T) {
	h := start(t, setup{})
	for _, opts := range [][]map[string]any{
		{sub("add", str("url", "https://example.com/feed.xml"))},
		{sub("remove", str("name", "Example"))},
	} {
		r := h.gateway(t, discordfake.WithPermissions(h.fake.SlashCommand(channelID, userID, "sources", opts...), discordgo.PermissionSendMessages))
		if r.Type != 4 || r.Data.Flags != 64 {
			t.Errorf("type %d flags %d, want an ephemeral message", r.Type, r.Data.Flags)
		}
		if len(r.Data.Embeds) != 1 || r.Data.Embeds[0].Color != 0xE74C3C ||
			!strings.Contains(r.Data.Embeds[0].Description, "Manage Channels") {
			t.Errorf("embeds = %+v, want a red refusal naming Manage Channels", r.Data.Embeds)
		}
		checkNoMentions(t, r.Data.AllowedMentions)
	}
	h.stub.assertNotCalled(t)
}

func TestUnknownCommandIsAnsweredWithoutHandler(t *testing.T) {
	h := start(t, setup{})
	r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "oldcommand"))
	if r.Type != 4 || r.Data.Flags != 64 || len(r.Data.Embeds) != 1 || r.Data.Embeds[0].Color != 0xE74C3C {
		t.Errorf("answer = %+v, want an ephemeral red message", r)
	}
	h.stub.assertNotCalled(t)
}

func TestAutocomplete(t *testing.T) {
	choices := []commands.Choice{{Name: "12 · nvidia AND china\n(paused)", Value: "12"}, {Name: "", Value: "13"}, {Name: "empty value"}}
	for i := range 40 {
		choices = append(choices, commands.Choice{Name: strings.Repeat("x", 150), Value: "1" + strings.Repeat("0", i%3)})
	}
	check := func(t *testing.T, h *harness, r response) {
		t.Helper()
		if r.Type != 8 {
			t.Fatalf("type = %d, want 8", r.Type)
		}
		if len(r.Data.Choices) != 25 {
			t.Fatalf("choices = %d, want 25", len(r.Data.Choices))
		}
		if c := r.Data.Choices[0]; c.Name != "12 · nvidia AND china (paused)" || c.Value != "12" {
			t.Errorf("first choice = %+v", c)
		}
		if c := r.Data.Choices[1]; c.Name != "13" || c.Value != "13" {
			t.Errorf("a nameless choice shows its value, got %+v", c)
		}
		for _, c := range r.Data.Choices {
			if n := ndiscord.Len(c.Name); n == 0 || n > 100 {
				t.Errorf("choice name of %d units: %q", n, c.Name)
			}
		}
		call := <-h.stub.completes
		if call.partial != "1" || call.req.Command != "watch" || call.req.Sub != "pause" || call.req.User != userID || call.req.Channel != channelID {
			t.Errorf("Complete(%+v, %q)", call.req, call.partial)
		}
	}
	ac := func(h *harness) map[string]any {
		return h.fake.Autocomplete(channelID, userID, "watch", sub("pause", focused("id", "1")))
	}

	t.Run("gateway", func(t *testing.T) {
		h := start(t, setup{})
		h.stub.setChoices(choices)
		check(t, h, h.gateway(t, ac(h)))
		h.stub.assertNotCalled(t)
	})
	t.Run("http", func(t *testing.T) {
		h := start(t, setup{http: true})
		h.stub.setChoices(choices)
		check(t, h, h.viaHTTP(t, ac(h)))
		h.stub.assertNotCalled(t)
	})
	t.Run("option without completion", func(t *testing.T) {
		h := start(t, setup{})
		h.stub.setChoices(choices)
		h.gateway(t, h.fake.Autocomplete(channelID, userID, "watch", sub("add", focused("query", "nv"))))
		// Discord requires the list, empty or not.
		notifiertest.JSONEq(t, `{"type":8,"data":{"choices":[]}}`, string(h.fake.Callbacks()[0].Body))
		h.stub.assertNotCalled(t)
	})
}

func TestHandlerPanicIsAnsweredAndDrained(t *testing.T) {
	h := start(t, setup{})
	h.stub.setReply(func(context.Context, commands.Request) commands.Reply { panic("boom") })
	r := h.gateway(t, h.fake.SlashCommand(channelID, userID, "watch", sub("list")))
	h.stub.next(t, h.ctx)
	if r.Type != 4 || r.Data.Flags != 64 || len(r.Data.Embeds) != 1 || r.Data.Embeds[0].Color != 0xE74C3C {
		t.Errorf("answer = %+v, want an ephemeral red message", r)
	}
	if !strings.Contains(h.logs.String(), "panicked") {
		t.Error("the panic was not logged")
	}
}

func TestInteractionWithUnreadableDataIsAnswered(t *testing.T) {
	h := start(t, setup{})
	ic := h.fake.SlashCommand(channelID, userID, "watch", sub("list"))
	ic["data"] = map[string]any{"name": 42} // discordgo cannot read it
	r := h.gateway(t, ic)
	if r.Type != 4 || len(r.Data.Embeds) != 1 || r.Data.Embeds[0].Color != 0xE74C3C {
		t.Errorf("answer = %+v, want a red message", r)
	}
	h.stub.assertNotCalled(t)
}

// TestArgsReadByCore checks that the options the adapter writes into
// Request.Args come out of the command core's parser as sent.
func TestArgsReadByCore(t *testing.T) {
	h := start(t, setup{})
	for _, tc := range []struct {
		command string
		options []map[string]any
		text    string
		opts    map[string]string
	}{
		{"news", []map[string]any{str("query", `nvidia AND (china OR "export ban")`), str("since", "7d")},
			`nvidia AND (china OR "export ban")`, map[string]string{"since": "7d"}},
		{"news", []map[string]any{str("query", "tsmc"), str("since", "2 w (weeks)")},
			"tsmc", map[string]string{"since": "2 w (weeks)"}},
		{"watch", []map[string]any{sub("add", str("query", "openai -rumour"), str("digest", "weekly"))},
			"openai -rumour", map[string]string{"digest": "weekly"}},
		{"sources", []map[string]any{sub("add", str("url", "https://example.com/feed.xml"), str("name", `The “Daily” "Wire" (EU)`))},
			"https://example.com/feed.xml", map[string]string{"name": "The 'Daily' 'Wire' (EU)"}},
	} {
		ic := discordfake.WithPermissions(h.fake.SlashCommand(channelID, userID, tc.command, tc.options...), discordgo.PermissionManageChannels)
		if err := h.fake.SendInteraction(h.ctx, ic); err != nil {
			t.Fatal(err)
		}
		req := h.stub.next(t, h.ctx)
		a, err := commands.ParseArgs(req.Args)
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", req.Args, err)
			continue
		}
		if a.Text != tc.text || fmt.Sprint(a.Options) != fmt.Sprint(tc.opts) {
			t.Errorf("ParseArgs(%q) = %q %v, want %q %v", req.Args, a.Text, a.Options, tc.text, tc.opts)
		}
	}
}

package discord_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/bot/discord"
	"github.com/wirewatch/wirewatch/notifiers/discord/discordfake"
)

// registeredOption is an option as the bulk overwrite sends it.
type registeredOption struct {
	Type         int                `json:"type"`
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	Required     bool               `json:"required"`
	Autocomplete bool               `json:"autocomplete"`
	Choices      []map[string]any   `json:"choices"`
	Options      []registeredOption `json:"options"`
}

type registeredCommand struct {
	Type                     int                `json:"type"`
	Name                     string             `json:"name"`
	Description              string             `json:"description"`
	DefaultMemberPermissions *string            `json:"default_member_permissions"`
	DMPermission             *bool              `json:"dm_permission"`
	Contexts                 []int              `json:"contexts"`
	Options                  []registeredOption `json:"options"`
}

// wantCommands is every command, subcommand and option, written as
// "command sub option" with flags: "!" required, "?" autocompleted,
// "=a|b" choices.
var wantCommands = []string{
	"news query!", "news since",
	"watch add query!", "watch add digest=hourly|daily|weekly",
	"watch list",
	"watch remove id!?", "watch pause id!?", "watch resume id!?",
	"watch test query!",
	"sources list",
	"sources add url!", "sources add name",
	"sources remove name!?",
}

// flatten writes cmds in wantCommands' notation, checking descriptions.
func flatten(t *testing.T, cmds []registeredCommand) []string {
	t.Helper()
	var out []string
	desc := func(where, d string) {
		if n := len([]rune(d)); n < 1 || n > 100 {
			t.Errorf("%s: description of %d characters, want 1 to 100", where, n)
		}
	}
	var opts func(prefix string, os []registeredOption)
	opts = func(prefix string, os []registeredOption) {
		if len(os) == 0 {
			out = append(out, prefix)
		}
		for _, o := range os {
			where := prefix + " " + o.Name
			desc(where, o.Description)
			if o.Type == int(discordgo.ApplicationCommandOptionSubCommand) {
				opts(where, o.Options)
				continue
			}
			if o.Type != int(discordgo.ApplicationCommandOptionString) {
				t.Errorf("%s: type %d, want string (3)", where, o.Type)
			}
			s := where
			if o.Required {
				s += "!"
			}
			if o.Autocomplete {
				s += "?"
			}
			if len(o.Choices) > 0 {
				var names []string
				for _, c := range o.Choices {
					if c["name"] != c["value"] {
						t.Errorf("%s: choice %v: name and value differ", where, c)
					}
					names = append(names, c["value"].(string))
				}
				s += "=" + strings.Join(names, "|")
			}
			out = append(out, s)
		}
	}
	for _, c := range cmds {
		desc(c.Name, c.Description)
		if c.Type != 1 {
			t.Errorf("%s: type %d, want 1 (chat input)", c.Name, c.Type)
		}
		if c.DMPermission == nil || *c.DMPermission {
			t.Errorf("%s: dm_permission = %v, want false", c.Name, c.DMPermission)
		}
		if !slices.Equal(c.Contexts, []int{0}) {
			t.Errorf("%s: contexts = %v, want [0] (guild only)", c.Name, c.Contexts)
		}
		if c.DefaultMemberPermissions != nil {
			t.Errorf("%s: default_member_permissions = %q, want none (checked per call)", c.Name, *c.DefaultMemberPermissions)
		}
		opts(c.Name, c.Options)
	}
	return out
}

func TestDefinitions(t *testing.T) {
	var cmds []registeredCommand
	if err := json.Unmarshal(mustJSON(t, discord.Definitions()), &cmds); err != nil {
		t.Fatal(err)
	}
	if got := flatten(t, cmds); !slices.Equal(got, wantCommands) {
		t.Errorf("definitions:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantCommands, "\n"))
	}
	// Each call builds its own slice.
	a, b := discord.Definitions(), discord.Definitions()
	a[0].Name = "changed"
	if b[0].Name != "news" {
		t.Error("Definitions shares its commands between calls")
	}
}

func TestRegistration(t *testing.T) {
	for _, tc := range []struct {
		name, guild, route string
	}{
		{"guild", discordfake.GuildID, "/applications/" + discordfake.AppID + "/guilds/" + discordfake.GuildID + "/commands"},
		{"global", "", "/applications/" + discordfake.AppID + "/commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, setup{guild: tc.guild})
			// Commands left from an older version must disappear.
			s, err := discordgo.New("Bot " + botToken)
			if err != nil {
				t.Fatal(err)
			}
			old := []*discordgo.ApplicationCommand{{Name: "oldnews", Description: "gone"}}
			if _, err := s.ApplicationCommandBulkOverwrite(discordfake.AppID, tc.guild, old); err != nil {
				t.Fatal(err)
			}
			h.run(t)
			reqs, err := h.fake.WaitCommands(h.ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			put := reqs[1]
			if put.Method != http.MethodPut || put.Route != tc.route || put.Params["guild"] != tc.guild {
				t.Errorf("registration %s %s (guild %q), want PUT %s", put.Method, put.Route, put.Params["guild"], tc.route)
			}
			if got := put.Header.Get("Authorization"); got != "Bot "+botToken {
				t.Errorf("Authorization = %q", got)
			}
			var cmds []registeredCommand
			if err := put.Decode(&cmds); err != nil {
				t.Fatal(err)
			}
			if got := flatten(t, cmds); !slices.Equal(got, wantCommands) {
				t.Errorf("registered:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantCommands, "\n"))
			}
			now, err := s.ApplicationCommands(discordfake.AppID, tc.guild)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range now {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, []string{"news", "watch", "sources"}) {
				t.Errorf("commands after start-up = %v, want exactly news, watch, sources", names)
			}
			if err := h.fake.WaitIdentify(h.ctx, 1); err != nil {
				t.Fatal(err)
			}
			if ids := h.fake.Identifies(); ids[0].Intents != int(discordgo.IntentsGuilds) {
				t.Errorf("intents = %d, want %d (guilds only)", ids[0].Intents, discordgo.IntentsGuilds)
			}
		})
	}
}

func TestRunTwiceFails(t *testing.T) {
	h := start(t, setup{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := h.adapter.Run(ctx); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run = %v, want already running", err)
	}
}

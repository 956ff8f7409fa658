package discord

import (
	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/schedule"
)

// The command definitions live apart from the code that answers them: this
// file says what Discord shows, interaction.go what a command means.
//
// Permissions: Discord applies default_member_permissions to a whole
// top-level command, never to one subcommand. /sources list is for anyone
// (SPEC: "Chat commands"), so /sources carries no default permission and the
// adapter checks Manage Channels itself, on every call, for /sources add and
// /sources remove. /news and /watch are open to everyone; who may remove,
// pause or resume someone else's rule is the command core's decision, made
// from Request.Admin, which the adapter computes from the caller's
// permissions on every call.

// Command, subcommand and option names, shared by the definitions and the
// code that reads interactions.
const (
	cmdNews    = "news"
	cmdWatch   = "watch"
	cmdSources = "sources"

	optQuery  = "query"
	optSince  = "since"
	optDigest = "digest"
	optID     = "id"
	optURL    = "url"
	optName   = "name"
)

// Definitions returns the application commands wirewatch registers: /news,
// /watch (add, list, remove, pause, resume, test) and /sources (list, add,
// remove). Each call builds a fresh slice, so callers may change it.
func Definitions() []*discordgo.ApplicationCommand {
	noDM := false
	guildOnly := &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	command := func(name, description string, options ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommand {
		c := &discordgo.ApplicationCommand{
			Type:        discordgo.ChatApplicationCommand,
			Name:        name,
			Description: description,
			Contexts:    guildOnly,
			Options:     options,
		}
		// Contexts is the current way to keep commands out of DMs;
		// dm_permission is sent too for API versions that predate it.
		//lint:ignore SA1019 deliberately sent alongside Contexts
		c.DMPermission = &noDM
		return c
	}
	return []*discordgo.ApplicationCommand{
		command(cmdNews, "The 10 newest stored stories that match a query",
			stringOption(optQuery, "Rule query, e.g. nvidia AND china", true),
			stringOption(optSince, "How far back to look, e.g. 24h or 7d", false),
		),
		command(cmdWatch, "Alerts for this channel",
			subcommand("add", "Watch a query: its matches are posted to this channel",
				stringOption(optQuery, "Rule query, e.g. nvidia AND (china OR beijing)", true),
				digestOption(),
			),
			subcommand("list", "This channel's rules"),
			subcommand("remove", "Remove a rule", ruleOption()),
			subcommand("pause", "Pause a rule", ruleOption()),
			subcommand("resume", "Resume a paused rule", ruleOption()),
			subcommand("test", "How many stored stories of the last 7 days match a query",
				stringOption(optQuery, "Rule query to try", true),
			),
		),
		command(cmdSources, "News sources and their health",
			subcommand("list", "Sources with their last fetch, last error and stories in 7 days"),
			subcommand("add", "Add a feed (needs Manage Channels)",
				stringOption(optURL, "RSS, Atom or JSON Feed URL", true),
				stringOption(optName, "Name to show for the source", false),
			),
			subcommand("remove", "Remove a source (needs Manage Channels)",
				autocompleted(stringOption(optName, "The source's name", true)),
			),
		),
	}
}

func subcommand(name, description string, options ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{
		Type:        discordgo.ApplicationCommandOptionSubCommand,
		Name:        name,
		Description: description,
		Options:     options,
	}
}

func stringOption(name, description string, required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{
		Type:        discordgo.ApplicationCommandOptionString,
		Name:        name,
		Description: description,
		Required:    required,
	}
}

func autocompleted(o *discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	o.Autocomplete = true
	return o
}

// ruleOption is the rule id of /watch remove, pause and resume, completed
// from the rules the caller may change.
func ruleOption() *discordgo.ApplicationCommandOption {
	return autocompleted(stringOption(optID, "The rule's id", true))
}

// digestOption offers the three named schedules. Discord accepts only a
// listed choice, so a cron-spec digest is made with the API or the config
// file, not here.
func digestOption() *discordgo.ApplicationCommandOption {
	o := stringOption(optDigest, "Gather matches into one message per period instead of instant alerts", false)
	for _, d := range schedule.Words {
		o.Choices = append(o.Choices, &discordgo.ApplicationCommandOptionChoice{Name: d, Value: d})
	}
	return o
}

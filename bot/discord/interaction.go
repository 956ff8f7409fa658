package discord

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/bot/commands"
)

// adminPermissions are the permissions that make a caller an admin: Manage
// Channels, or Administrator, which implies it.
const adminPermissions = discordgo.PermissionManageChannels | discordgo.PermissionAdministrator

// Autocomplete limits Discord sets.
const (
	maxChoices     = 25
	maxChoiceName  = 100
	maxChoiceValue = 100
)

// answer decides the first response to an interaction: a JSON value, a
// *discordgo.InteractionResponse or an *autocompleteResult. When then is
// non-nil the reply comes later: the caller sends first (a deferral), then
// calls then with whether Discord took it, and then edits the reply in.
// answer is called with the adapter's in-flight count held.
func (a *Adapter) answer(i *discordgo.Interaction) (first any, then func(acked bool)) {
	_, isCommand := i.Data.(discordgo.ApplicationCommandInteractionData)
	switch {
	case i.Type == discordgo.InteractionApplicationCommand && isCommand:
		return a.command(i)
	case i.Type == discordgo.InteractionApplicationCommandAutocomplete && isCommand:
		return a.complete(i), nil
	case i.Type == discordgo.InteractionPing:
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong}, nil
	}
	// discordgo hands on an interaction whose data it could not read, so
	// the type alone does not promise the data.
	a.logger.Debug("discord interaction not handled", "type", i.Type.String(), "interaction", i.ID)
	return message(commands.Reply{Ephemeral: true, Error: true, Text: "wirewatch does not handle this kind of interaction."}), nil
}

// command runs a slash command. A fast one is answered directly when the
// handler returns within deferAfter; a slow one, or a fast one that overruns,
// is deferred (type 5, ephemeral) and its reply edited in when it is ready.
func (a *Adapter) command(i *discordgo.Interaction) (any, func(bool)) {
	req, refusal := a.request(i)
	if refusal != nil {
		return message(*refusal), nil
	}
	a.logger.Debug("discord command", "command", req.Command, "sub", req.Sub, "user", req.User, "channel", req.Channel)

	ctx, cancel := context.WithTimeout(a.work, workTimeout)
	result := make(chan commands.Reply, 1)
	a.inflight.Go(func() { result <- a.handle(ctx, req) })

	if !commands.Slow(req) {
		timer := time.NewTimer(a.deferAfter)
		defer timer.Stop()
		select {
		case rep := <-result:
			cancel()
			return message(rep), nil
		case <-timer.C:
			a.logger.Debug("discord command overran: deferring its reply", "command", req.Command, "sub", req.Sub)
		}
	}
	deferred := &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	}
	return deferred, func(acked bool) {
		defer cancel()
		rep := <-result
		if !acked {
			return
		}
		if _, err := a.session.InteractionResponseEdit(a.withAppID(i), edit(rep), discordgo.WithContext(ctx)); err != nil {
			a.logger.Warn("discord reply edit failed", "interaction", i.ID, "command", req.Command, "sub", req.Sub, "err", a.describe(err, i.Token))
		}
	}
}

// handle calls the handler, turning a panic into an error reply so that the
// interaction is still answered and shutdown still drains.
func (a *Adapter) handle(ctx context.Context, req commands.Request) (rep commands.Reply) {
	defer func() {
		if p := recover(); p != nil {
			a.logger.Error("discord command handler panicked", "command", req.Command, "sub", req.Sub, "panic", fmt.Sprint(p))
			rep = commands.Reply{Ephemeral: true, Error: true, Text: "Something went wrong while running this command."}
		}
	}()
	return a.handler.Handle(ctx, req)
}

// withAppID returns i with the application id filled in when the payload
// left it out.
func (a *Adapter) withAppID(i *discordgo.Interaction) *discordgo.Interaction {
	if i.AppID != "" {
		return i
	}
	cp := *i
	cp.AppID = a.appID
	return &cp
}

// autocompleteResult is the answer to an autocomplete interaction (type 8).
// discordgo's InteractionResponseData would leave out an empty list of
// choices, which Discord requires, and add message fields it does not want.
type autocompleteResult struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data struct {
		Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
	} `json:"data"`
}

// complete answers an autocomplete interaction with at most 25 choices.
func (a *Adapter) complete(i *discordgo.Interaction) *autocompleteResult {
	resp := &autocompleteResult{Type: discordgo.InteractionApplicationCommandAutocompleteResult}
	resp.Data.Choices = []*discordgo.ApplicationCommandOptionChoice{}
	req, refusal := a.request(i)
	if refusal != nil {
		return resp
	}
	focused := focusedOption(i.ApplicationCommandData().Options)
	if focused == nil || !completes(req, focused.Name) {
		return resp
	}
	ctx, cancel := context.WithTimeout(a.work, completeTimeout)
	defer cancel()
	for _, c := range a.completions(ctx, req, optionString(focused)) {
		if len(resp.Data.Choices) == maxChoices {
			break
		}
		if c.Value == "" || length(c.Value) > maxChoiceValue {
			continue
		}
		name := plainLine(c.Name, maxChoiceName)
		if name == "" {
			name = plainLine(c.Value, maxChoiceName)
		}
		resp.Data.Choices = append(resp.Data.Choices, &discordgo.ApplicationCommandOptionChoice{Name: name, Value: c.Value})
	}
	return resp
}

// completions calls the handler's Complete, turning a panic into no choices.
func (a *Adapter) completions(ctx context.Context, req commands.Request, partial string) (out []commands.Choice) {
	defer func() {
		if p := recover(); p != nil {
			a.logger.Error("discord autocomplete handler panicked", "command", req.Command, "sub", req.Sub, "panic", fmt.Sprint(p))
			out = nil
		}
	}()
	return a.handler.Complete(ctx, req, partial)
}

// completes reports whether option name of req's command is autocompleted.
func completes(req commands.Request, name string) bool {
	switch {
	case req.Command == cmdWatch && (req.Sub == "remove" || req.Sub == "pause" || req.Sub == "resume"):
		return name == optID
	case req.Command == cmdSources && req.Sub == "remove":
		return name == optName
	}
	return false
}

// focusedOption finds the option being typed, inside a subcommand or not.
func focusedOption(opts []*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if o.Focused {
			return o
		}
		if f := focusedOption(o.Options); f != nil {
			return f
		}
	}
	return nil
}

// argsBuilders turn a command's options into Request.Args, keyed by
// "command" or "command sub". A command missing here is unknown.
var argsBuilders = map[string]func(opt func(string) string) string{
	"news": func(opt func(string) string) string {
		return withOption(opt(optQuery), "since", opt(optSince))
	},
	"watch add": func(opt func(string) string) string {
		return withOption(opt(optQuery), "digest", opt(optDigest))
	},
	"watch list":     func(func(string) string) string { return "" },
	"watch remove":   func(opt func(string) string) string { return opt(optID) },
	"watch pause":    func(opt func(string) string) string { return opt(optID) },
	"watch resume":   func(opt func(string) string) string { return opt(optID) },
	"watch test":     func(opt func(string) string) string { return opt(optQuery) },
	"sources list":   func(func(string) string) string { return "" },
	"sources add":    func(opt func(string) string) string { return withName(opt(optURL), opt(optName)) },
	"sources remove": func(opt func(string) string) string { return opt(optName) },
}

// adminOnly are the commands the adapter itself refuses to non-admins (see
// definitions.go for why Discord's own permission cannot do it).
var adminOnly = map[string]bool{"sources add": true, "sources remove": true}

// withOption appends " key:value" to args when value is set.
func withOption(args, key, value string) string {
	if value == "" {
		return args
	}
	return strings.TrimSpace(args + " " + key + ":" + optionValue(value, false))
}

// withName appends ` name:"…"` to args when name is set.
func withName(args, name string) string {
	if name == "" {
		return args
	}
	return strings.TrimSpace(args + " name:" + optionValue(name, true))
}

// doubleQuotes are the characters the command core reads as a double quote.
var doubleQuotes = strings.NewReplacer(`"`, "'", "“", "'", "”", "'", "„", "'", "‟", "'")

// optionValue writes value for the core's key:value syntax (see
// commands.ParseArgs): in double quotes when always is set or the value holds
// white space or a parenthesis, which would end it. The syntax has no escape
// for a double quote inside, so those become single quotes.
func optionValue(value string, always bool) string {
	value = doubleQuotes.Replace(value)
	if always || strings.ContainsFunc(value, func(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == ')' }) {
		return `"` + value + `"`
	}
	return value
}

// request reads a command interaction into a Request. A non-nil refusal is
// the reply to send instead of calling the handler: an unknown command, or
// an admin command from a caller without Manage Channels.
func (a *Adapter) request(i *discordgo.Interaction) (commands.Request, *commands.Reply) {
	data := i.ApplicationCommandData()
	req := commands.Request{
		Platform: "discord",
		Notifier: a.name,
		Command:  data.Name,
		Channel:  i.ChannelID,
	}
	user := i.User
	if i.Member != nil {
		if i.Member.User != nil {
			user = i.Member.User
		}
		req.Admin = i.Member.Permissions&adminPermissions != 0
		req.UserName = i.Member.Nick
	}
	if user != nil {
		req.User = user.ID
		if req.UserName == "" {
			req.UserName = user.GlobalName
		}
		if req.UserName == "" {
			req.UserName = user.Username
		}
	}

	opts := data.Options
	if len(opts) == 1 && opts[0] != nil && opts[0].Type == discordgo.ApplicationCommandOptionSubCommand {
		req.Sub = opts[0].Name
		opts = opts[0].Options
	}
	key := strings.TrimSpace(req.Command + " " + req.Sub)
	build, ok := argsBuilders[key]
	if !ok {
		return req, &commands.Reply{Ephemeral: true, Error: true,
			Text: "Unknown command /" + key + ". Commands are registered again when wirewatch starts; try again in a minute."}
	}
	req.Args = build(func(name string) string {
		for _, o := range opts {
			if o != nil && o.Name == name {
				return strings.TrimSpace(optionString(o))
			}
		}
		return ""
	})
	if adminOnly[key] && !req.Admin {
		return req, &commands.Reply{Ephemeral: true, Error: true,
			Text: "/" + key + " needs the Manage Channels permission."}
	}
	return req, nil
}

// optionString returns an option's value as text.
func optionString(o *discordgo.ApplicationCommandInteractionDataOption) string {
	switch v := o.Value.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// Package commands is the platform-neutral core of the chat commands /news,
// /watch and /sources. Platform adapters (bot/slack, bot/discord) turn a slash
// command into a Request, decide who is an admin, and render the Reply with
// their own escaping; the core reads and writes the store through the service
// layer and never calls notifiers.
package commands

import "context"

// Request is one chat command, independent of the platform it came from.
type Request struct {
	// Platform is "slack" or "discord".
	Platform string
	// Notifier is the name of the configured notifier the command arrived
	// through; rules made here send to Notifier + ":" + Channel.
	Notifier string
	// Command is "news", "watch" or "sources" (without the slash).
	Command string
	// Sub is the subcommand ("add", "list", "remove", "pause", "resume",
	// "test", "help"); empty for /news.
	Sub string
	// Args is the rest of the command: a query, an id or a URL, with options
	// such as "digest:daily" or "since:7d" anywhere in it.
	Args string
	// User is the caller's platform user id; UserName a display name.
	User, UserName string
	// Channel is the channel id; ChannelName its name without '#', when known,
	// so rules that target "#name" in the config file are found too.
	Channel, ChannelName string
	// Admin is the adapter's decision: on Slack the caller is in the
	// notifier's admins list, on Discord the caller has Manage Channels.
	Admin bool
}

// Target returns the target that rules made by this request send to.
func (r Request) Target() string { return r.Notifier + ":" + r.Channel }

// Reply is the answer to a command. Every text field may hold untrusted text
// (story titles, queries, source names): adapters escape all of it.
type Reply struct {
	// Ephemeral replies are shown only to the caller.
	Ephemeral bool
	// Error marks a reply that reports a mistake (a bad query, no permission).
	Error bool
	// Text is the reply's main text, plain; lines separated by "\n".
	Text string
	// Items are listed under the text: stories, rules or sources.
	Items []Item
	// Footer is a closing line ("+12 more", hints); may be empty.
	Footer string
}

// Item is one entry of a reply's list.
type Item struct {
	// Title is the entry's headline; linked to URL when URL is set.
	Title string
	URL   string
	// Detail is a second line of plain text (source, time, terms, counts).
	Detail string
}

// Choice is one autocomplete suggestion.
type Choice struct {
	Name  string // shown to the user
	Value string // sent back as the option's value
}

// Handler answers commands. Implementations are safe for concurrent use.
type Handler interface {
	// Handle runs a command and returns the reply. It does not fail: errors
	// become replies with Error set.
	Handle(ctx context.Context, req Request) Reply
	// Complete suggests values for a partially typed option (rule ids for
	// /watch remove|pause|resume, source names for /sources remove).
	Complete(ctx context.Context, req Request, partial string) []Choice
}

// Slow reports whether a command may take longer than the 3 seconds a
// platform allows for the first answer, so the adapter should acknowledge
// first and send the reply afterwards. The command and subcommand are read
// as Handle reads them (any case; the subcommand may be the first word of
// Args).
func Slow(req Request) bool {
	req = normalize(req)
	switch req.Command {
	case "news":
		return true
	case "watch":
		return req.Sub == "test"
	case "sources":
		return req.Sub == "add" || req.Sub == "list"
	}
	return false
}

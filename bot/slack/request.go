package slack

import (
	"regexp"
	"strings"
	"unicode"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/bot/commands"
)

// request turns a slash command into a commands.Request. It reports false for
// a command that is not one of ours.
func (a *Adapter) request(cmd slackgo.SlashCommand) (commands.Request, bool) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(cmd.Command), "/"))
	switch name {
	case "news", "watch", "sources":
	default:
		return commands.Request{}, false
	}
	req := commands.Request{
		Platform:    "slack",
		Notifier:    a.name,
		Command:     name,
		User:        cmd.UserID,
		UserName:    cmd.UserName,
		Channel:     cmd.ChannelID,
		ChannelName: cmd.ChannelName,
		Admin:       cmd.UserID != "" && a.admins[cmd.UserID],
	}
	text := strings.TrimSpace(plainText(cmd.Text))
	if name == "news" {
		req.Args = text
		return req, true
	}
	sub, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		sub, rest = text[:i], text[i:]
	}
	req.Sub = strings.ToLower(sub)
	if req.Sub == "" {
		req.Sub = "help"
	}
	req.Args = strings.TrimSpace(rest)
	return req, true
}

// slackMarkup matches Slack's markup in message text: <URL>, <URL|label>,
// <@U123|name>, <#C123|name>, <!here>.
var slackMarkup = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// plainText turns command text as Slack sends it back into what the user
// typed: links become their URL, mentions their name, and the entities Slack
// always uses for &, < and > their characters again.
func plainText(s string) string {
	s = slackMarkup.ReplaceAllStringFunc(s, func(m string) string {
		sub := slackMarkup.FindStringSubmatch(m)
		target, label := sub[1], sub[2]
		switch {
		case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
			return target
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
			if label != "" {
				return target[:1] + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			return "@" + strings.TrimPrefix(target, "!")
		}
		return m
	})
	return entities.Replace(s)
}

var entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

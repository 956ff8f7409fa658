package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/wirewatch/wirewatch/bot/commands"
	"github.com/wirewatch/wirewatch/notifiers"
	slacknotify "github.com/wirewatch/wirewatch/notifiers/slack"
)

const (
	maxTitleRunes  = 300      // an item's headline, before escaping
	maxDetailRunes = 600      // an item's second line, before escaping
	maxAck         = 20 << 10 // Slack drops Socket Mode acks of 20 KB or more
)

// message is a slash command response, as an HTTP answer, an ack payload or a
// response_url post.
type message struct {
	ResponseType string          `json:"response_type"`
	Text         string          `json:"text"`
	Blocks       []slackgo.Block `json:"blocks,omitempty"`
}

// workingMessage is the interim answer to a command whose reply comes later.
var workingMessage = message{ResponseType: "ephemeral", Text: "Working on it…"}

// shuttingDown answers commands that arrive while wirewatch stops.
var shuttingDown = commands.Reply{Ephemeral: true, Error: true, Text: "wirewatch is shutting down; try again in a minute."}

// helpReply answers a slash command this adapter does not know, which means
// the Slack app has a command wirewatch does not serve.
func helpReply(command string) commands.Reply {
	return commands.Reply{
		Ephemeral: true,
		Error:     true,
		Text:      fmt.Sprintf("wirewatch does not know the command %s.", command),
		Items: []commands.Item{
			{Title: "/news QUERY", Detail: "the newest stored stories that match"},
			{Title: "/watch add|list|remove|pause|resume|test", Detail: "alert rules for this channel"},
			{Title: "/sources list|add|remove", Detail: "the feeds wirewatch reads"},
		},
	}
}

// fitsAck reports whether msg fits in a Socket Mode ack, as slack-go measures it.
func fitsAck(envelopeID string, msg message) bool {
	b, err := json.Marshal(socketmode.Response{EnvelopeID: envelopeID, Payload: msg})
	return err == nil && len(b) < maxAck
}

// render turns a Reply into a Slack message: the text in sections (a query
// and its caret line in a code block), each item as a linked title with its
// detail in a context block, and the footer as context. Every text from the
// reply is escaped, so "<!channel>" in a story title shows as typed and pings
// no one; every Slack limit is kept by cutting.
func render(r commands.Reply) message {
	msg := message{ResponseType: "in_channel", Text: fallback(r)}
	if r.Ephemeral {
		msg.ResponseType = "ephemeral"
	}

	head := textBlocks(r.Text, r.Error)
	var tail []slackgo.Block
	if f := oneLine(r.Footer); f != "" {
		tail = append(tail, contextBlock(fitText(f, slacknotify.MaxText, slacknotify.Escape)))
	}

	room := slacknotify.MaxBlocks - len(head) - len(tail)
	var items []slackgo.Block
	shown := 0
	for i, it := range r.Items {
		b := itemBlocks(it)
		// Keep a block for "+N more" unless this is the last item.
		reserve := 1
		if i == len(r.Items)-1 {
			reserve = 0
		}
		if len(items)+len(b)+reserve > room {
			break
		}
		items = append(items, b...)
		shown++
	}
	if more := len(r.Items) - shown; more > 0 {
		items = append(items, contextBlock(fmt.Sprintf("+%d more", more)))
	}

	msg.Blocks = append(append(head, items...), tail...)
	return msg
}

// fallback is the plain notification text shown where blocks are not.
func fallback(r commands.Reply) string {
	text := strings.TrimSpace(r.Text)
	if text == "" && len(r.Items) > 0 {
		text = r.Items[0].Title
	}
	if text == "" {
		text = r.Footer
	}
	if text = oneLine(text); text == "" {
		return "wirewatch"
	}
	return fitText(text, slacknotify.MaxFallback, slacknotify.Escape)
}

// caretLine matches the line under a query that points at a column: "    ^".
var caretLine = regexp.MustCompile(`^[ \t]*\^+[ \t]*$`)

// textBlocks renders the reply text. The first line followed by a caret line
// (a query and the column at fault) goes into a code block, so the caret
// lines up; the lines before and after are sections.
func textBlocks(text string, isError bool) []slackgo.Block {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	before, query, caret, after := lines, "", "", []string(nil)
	for i := 1; i < len(lines); i++ {
		if caretLine.MatchString(lines[i]) && strings.TrimSpace(lines[i-1]) != "" {
			before, query, caret, after = lines[:i-1], lines[i-1], lines[i], lines[i+1:]
			break
		}
	}

	var blocks []slackgo.Block
	lead := ""
	if isError {
		lead = ":warning: "
	}
	if s := strings.TrimSpace(strings.Join(before, "\n")); s != "" {
		blocks = append(blocks, section(fitText(s, slacknotify.MaxText-len(lead), slacknotify.Escape), lead))
		lead = ""
	}
	if caret != "" {
		caret = strings.TrimRight(caret, " \t")
		code := fitText(query, slacknotify.MaxText-len(lead), func(q string) string {
			return "```" + codeEscape(q) + "\n" + codeEscape(caret) + "```"
		})
		blocks = append(blocks, section(code, lead))
		lead = ""
	}
	if s := strings.TrimSpace(strings.Join(after, "\n")); s != "" {
		blocks = append(blocks, section(fitText(s, slacknotify.MaxText-len(lead), slacknotify.Escape), lead))
	}
	return blocks
}

// codeEscape escapes text for a code block and breaks up a run of three
// backticks, which would end the block early.
func codeEscape(s string) string {
	return strings.ReplaceAll(slacknotify.Escape(s), "```", "`\u200b`\u200b`")
}

// itemBlocks renders one item: its title, linked when it has a URL, and its
// detail underneath in small print.
func itemBlocks(it commands.Item) []slackgo.Block {
	title := oneLine(it.Title)
	if title == "" {
		title = "(untitled)"
	}
	title = slacknotify.Truncate(title, maxTitleRunes)
	blocks := []slackgo.Block{section(fitText(title, slacknotify.MaxText, func(t string) string {
		return slacknotify.Link(it.URL, slacknotify.Escape(t))
	}), "")}
	if d := oneLine(it.Detail); d != "" {
		d = slacknotify.Truncate(d, maxDetailRunes)
		blocks = append(blocks, contextBlock(fitText(d, slacknotify.MaxText, slacknotify.Escape)))
	}
	return blocks
}

// section is a section block of mrkdwn; lead is trusted mrkdwn put before text.
func section(text, lead string) slackgo.Block {
	return slackgo.NewSectionBlock(mrkdwn(lead+text), nil, nil)
}

func contextBlock(text string) slackgo.Block {
	return slackgo.NewContextBlock("", mrkdwn(text))
}

// mrkdwn is a verbatim mrkdwn text object: Slack turns no bare URL, channel
// name or "@here" in it into a link or a ping.
func mrkdwn(text string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, text, false, true)
}

// oneLine makes text one trimmed line: runs of whitespace become one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// fitText renders the longest prefix of raw (cut by slacknotify.Truncate)
// whose rendering is at most limit Slack characters. Cutting before
// rendering means an escape entity or a link is never cut in half.
func fitText(raw string, limit int, render func(string) string) string {
	n := limit
	for n > 0 {
		out := render(slacknotify.Truncate(raw, n))
		over := notifiers.UTF16(out) - limit
		if over <= 0 {
			return out
		}
		// One character of raw renders as at most five ("&amp;").
		n -= max(1, (over+4)/5)
	}
	return ""
}

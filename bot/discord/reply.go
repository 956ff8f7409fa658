package discord

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/bot/commands"
	ndiscord "github.com/wirewatch/wirewatch/notifiers/discord"
)

// Reply colours: Discord's blurple for answers, red for mistakes.
const (
	replyColour = 0x5865F2
	errorColour = 0xE74C3C
)

// Escaping, lengths and limits come from notifiers/discord, which renders
// alerts: a reply is escaped exactly as an alert is.
var (
	escaped = ndiscord.Escaped
	length  = ndiscord.Len
)

// maxDetail bounds one item's detail line, so that one long detail cannot
// crowd out the rest of a list.
const maxDetail = 300

// message is rep as an immediate interaction response (type 4).
func message(rep commands.Reply) *discordgo.InteractionResponse {
	data := &discordgo.InteractionResponseData{
		Embeds:          []*discordgo.MessageEmbed{embed(rep)},
		AllowedMentions: noMentions(),
	}
	if rep.Ephemeral {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}
}

// edit is rep as the edit of a deferred reply. Whether the reply is
// ephemeral was settled by the deferral.
func edit(rep commands.Reply) *discordgo.WebhookEdit {
	content := ""
	embeds := []*discordgo.MessageEmbed{embed(rep)}
	return &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, AllowedMentions: noMentions()}
}

// noMentions lets the reply mention no one: the empty list is sent as
// "parse":[] (a nil one would be null, which Discord reads as the default).
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// embed renders rep as one embed within Discord's limits: the text, then one
// line per item ("[title](url) — detail"), ending in "+N more" when not all
// fit, and the footer. Every piece of text is escaped.
func embed(rep commands.Reply) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Color: replyColour}
	if rep.Error {
		e.Color = errorColour
	}
	if f := plainLine(rep.Footer, ndiscord.MaxFooter); f != "" {
		e.Footer = &discordgo.MessageEmbedFooter{Text: f}
	}
	room := ndiscord.MaxDescription
	if e.Footer != nil {
		room = min(room, ndiscord.MaxEmbedsTotal-length(e.Footer.Text))
	}

	var b strings.Builder
	used := 0
	add := func(s string) {
		b.WriteString(s)
		used += length(s)
	}
	// tail is the most a closing "+N more" line can take; whatever is added
	// before the last item leaves room for it.
	tail := 0
	if len(rep.Items) > 0 {
		tail = length("\n\n+" + strconv.Itoa(len(rep.Items)) + " more")
	}
	if text := strings.TrimSpace(rep.Text); text != "" {
		textRoom := room - tail
		if len(rep.Items) > 0 {
			textRoom = room / 2 // the list gets the other half at least
		}
		add(escaped(text, textRoom))
	}
	for n, it := range rep.Items {
		sep := "\n"
		switch {
		case used == 0:
			sep = ""
		case n == 0:
			sep = "\n\n" // a blank line between the text and the list
		}
		line := sep + itemLine(it)
		need := length(line)
		if n < len(rep.Items)-1 {
			need += tail
		}
		if used+need > room {
			add(sep + "+" + strconv.Itoa(len(rep.Items)-n) + " more")
			break
		}
		add(line)
	}
	e.Description = b.String()
	if e.Description == "" {
		e.Description = "Done."
	}
	return e
}

// itemLine renders one item: its title, linked when the URL is http or https,
// and its detail.
func itemLine(it commands.Item) string {
	title := escaped(strings.TrimSpace(it.Title), ndiscord.MaxTitle)
	if title == "" {
		title = "(untitled)"
	}
	line := title
	if u := ndiscord.MarkdownLink(it.URL); u != "" {
		line = "[" + title + "](" + u + ")"
	}
	if d := strings.Join(strings.Fields(it.Detail), " "); d != "" {
		line += " — " + escaped(d, maxDetail)
	}
	return line
}

// linkEscaper percent-encodes what would end or break "(url)".
// plainLine returns untrusted text for places that show no markdown (embed
// footers, autocomplete choices): one line, control characters dropped, cut
// to max units with "…".
func plainLine(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
		default:
			b.WriteRune(r)
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if length(out) <= max {
		return out
	}
	if max <= 0 {
		return ""
	}
	n, cut := 0, 0
	for i, r := range out {
		l := length(string(r))
		if n+l > max-1 { // one unit for the "…"
			cut = i
			break
		}
		n += l
	}
	return strings.TrimRightFunc(out[:cut], unicode.IsSpace) + "…"
}

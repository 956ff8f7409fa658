package discord

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Rendering is pure: an alert in, embeds out, every limit respected, every
// piece of untrusted text escaped. The bot and webhook notifiers share it, and
// the chat commands use it to show stories.

// palette holds the embed colours rules are given, chosen to read well on
// Discord's light and dark themes.
var palette = []int{
	0x3498DB, // blue
	0x1ABC9C, // teal
	0x9B59B6, // purple
	0xE67E22, // orange
	0x2ECC71, // green
	0xE91E63, // pink
	0xF1C40F, // yellow
	0x5865F2, // blurple
	0x00ACC1, // cyan
	0x7CB342, // olive
}

// healthColour marks feed-health messages.
const healthColour = 0xE74C3C

// Colour returns the embed colour of a rule: a stable choice from a palette,
// so that one rule's alerts always look alike.
func Colour(rule string) int {
	h := fnv.New32a()
	h.Write([]byte(rule))
	return palette[h.Sum32()%uint32(len(palette))]
}

// Embeds renders an alert as embeds within every Discord limit: for a story,
// the title linking to it, the snippet with matched terms in bold, the source
// and rules in the footer and the published time as the timestamp; for a
// follow-up a compact "also reported by" embed; for a digest or summary a list
// of stories ending in "+N more" when they do not all fit; for a health alert
// its text.
func Embeds(a *notifiers.Alert) []*discordgo.MessageEmbed {
	var e *discordgo.MessageEmbed
	switch {
	case a.Kind == store.KindHealth:
		e = textEmbed(a, "wirewatch: source health", healthColour)
	case a.Kind == store.KindDigest || a.Kind == store.KindSummary || (a.Story == nil && len(a.Stories) > 0):
		e = listEmbed(a)
	case a.Story == nil:
		e = textEmbed(a, "wirewatch", ruleColour(a.Rules))
	case a.Kind == store.KindFollowUp:
		e = followUpEmbed(a)
	default:
		e = storyEmbed(a)
	}
	return []*discordgo.MessageEmbed{e}
}

// ruleColour is the colour of the first rule.
func ruleColour(rules []string) int {
	if len(rules) == 0 {
		return Colour("")
	}
	return Colour(rules[0])
}

// storyEmbed renders an instant alert (or a surge) about a.Story.
func storyEmbed(a *notifiers.Alert) *discordgo.MessageEmbed {
	s := a.Story
	e := &discordgo.MessageEmbed{
		Type:      discordgo.EmbedTypeRich,
		Title:     title(s.Title),
		URL:       link(s.URL),
		Timestamp: timestamp(s.Published),
		Color:     ruleColour(a.Rules),
		Footer:    footer(s.Source, a.Rules),
	}
	if a.Kind == store.KindSurge {
		e.Author = &discordgo.MessageEmbedAuthor{Name: "Surge: carried by several sources"}
	}
	text := s.Summary
	if strings.TrimSpace(text) == "" {
		text = s.Content
	}
	e.Description = fit([]rune(text), descriptionRoom(e), highlighter(rules.NewHighlighter(a.Terms)))
	return e
}

// followUpEmbed renders a later copy of a story, posted under the first alert.
func followUpEmbed(a *notifiers.Alert) *discordgo.MessageEmbed {
	s := a.Story
	source := s.Source
	if source == "" {
		source = "another source"
	}
	return &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Author:      &discordgo.MessageEmbedAuthor{Name: plainCut("Also reported by "+source, MaxAuthor)},
		Title:       title(s.Title),
		Description: Escape(notifiers.SharedText(s)),
		URL:         link(s.URL),
		Timestamp:   timestamp(s.Published),
		Color:       ruleColour(a.Rules),
		Footer:      footer("", a.Rules),
	}
}

// listEmbed renders a digest or summary: one line per story, as many as fit.
func listEmbed(a *notifiers.Alert) *discordgo.MessageEmbed {
	n := len(a.Stories)
	total := max(a.Total, n)
	heading := "Digest"
	if a.Kind == store.KindSummary {
		heading = "Summary"
	}
	noun := "stories"
	if total == 1 {
		noun = "story"
	}
	rules := strings.Join(a.Rules, ", ")
	if rules != "" {
		rules = " for " + rules
	}
	e := &discordgo.MessageEmbed{
		Type:   discordgo.EmbedTypeRich,
		Title:  Escaped(fmt.Sprintf("%s: %d %s", heading, total, noun)+rules, MaxTitle),
		Color:  ruleColour(a.Rules),
		Footer: footer("wirewatch", a.Rules),
	}
	var newest time.Time
	for i := range a.Stories {
		if p := a.Stories[i].Published; p.After(newest) {
			newest = p
		}
	}
	e.Timestamp = timestamp(newest)

	room := descriptionRoom(e)
	var b strings.Builder
	used := 0
	for i := range a.Stories {
		line := listLine(&a.Stories[i])
		if i > 0 {
			line = "\n" + line
		}
		more := ""
		if rest := total - i - 1; rest > 0 {
			more = "\n+" + strconv.Itoa(rest) + " more"
		}
		if used+Len(line)+Len(more) > room {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("+" + strconv.Itoa(total-i) + " more")
			break
		}
		b.WriteString(line)
		used += Len(line)
		if i == n-1 && total > n {
			b.WriteString("\n+" + strconv.Itoa(total-n) + " more")
		}
	}
	e.Description = b.String()
	return e
}

// listLine is one story of a digest: "• [title](url) — source".
func listLine(s *story.Story) string {
	const maxLineTitle, maxLineSource = 200, 80
	t := Escaped(strings.TrimSpace(s.Title), maxLineTitle)
	if t == "" {
		t = "(untitled)"
	}
	if u := MarkdownLink(s.URL); u != "" {
		t = "[" + t + "](" + u + ")"
	}
	line := "• " + t
	if src := strings.TrimSpace(s.Source); src != "" {
		line += " — " + Escaped(src, maxLineSource)
	}
	return line
}

// textEmbed renders a message that is not about stories.
func textEmbed(a *notifiers.Alert, heading string, colour int) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Type:  discordgo.EmbedTypeRich,
		Title: heading,
		Color: colour,
	}
	if len(a.Rules) > 0 {
		e.Footer = footer("", a.Rules)
	}
	e.Description = Escaped(a.Text, descriptionRoom(e))
	return e
}

// descriptionRoom is how long e's description may be: its own limit, or what
// the other parts leave of the 6000 for the whole message, whichever is less.
func descriptionRoom(e *discordgo.MessageEmbed) int {
	used := Len(e.Title)
	if e.Footer != nil {
		used += Len(e.Footer.Text)
	}
	if e.Author != nil {
		used += Len(e.Author.Name)
	}
	for _, f := range e.Fields {
		used += Len(f.Name) + Len(f.Value)
	}
	return min(MaxDescription, MaxEmbedsTotal-used)
}

// title renders a story's headline as an embed title.
func title(s string) string {
	t := Escaped(strings.TrimSpace(s), MaxTitle)
	if t == "" {
		return "(untitled)"
	}
	return t
}

// footer names the source and the rules. Footers show no markdown, so the
// text is kept plain rather than escaped.
func footer(source string, rules []string) *discordgo.MessageEmbedFooter {
	parts := make([]string, 0, 2)
	if s := strings.TrimSpace(source); s != "" {
		parts = append(parts, s)
	}
	if len(rules) > 0 {
		label := "rule: "
		if len(rules) > 1 {
			label = "rules: "
		}
		parts = append(parts, label+strings.Join(rules, ", "))
	}
	if len(parts) == 0 {
		return nil
	}
	return &discordgo.MessageEmbedFooter{Text: plainCut(strings.Join(parts, " · "), MaxFooter)}
}

// timestamp formats t for an embed; the zero time gives none.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// maxURL is the longest link put in an embed.
const maxURL = 2048

// link returns raw when it is an absolute http or https URL fit for an embed,
// else "".
func link(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return ""
	}
	s := u.String()
	if len(s) > maxURL {
		return ""
	}
	return s
}

// markdownLinkEscaper percent-encodes what would end or break "(url)".
var markdownLinkEscaper = strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20", "`", "%60")

// MarkdownLink returns raw for use as the target of a masked link, "" when it
// is no http or https URL.
func MarkdownLink(raw string) string {
	s := link(raw)
	if s == "" {
		return ""
	}
	return markdownLinkEscaper.Replace(s)
}

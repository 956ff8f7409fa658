package slack

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Limits of a Slack message that Blocks keeps to. Lengths are counted in
// UTF-16 code units, which is never less than what Slack counts as characters.
const (
	// MaxBlocks is the most blocks one message may carry.
	MaxBlocks = 50
	// MaxText is the longest text of one text object (section, context element).
	MaxText = 3000
	// MaxFallback is the longest notification text Blocks produces.
	MaxFallback = 3000
)

const (
	maxTitleRunes   = 250  // a headline, before escaping
	maxSnippetRunes = 600  // the summary snippet, before escaping
	maxSourceRunes  = 150  // a source name, before escaping
	maxURLBytes     = 2000 // longer links are shown as text only
	zwsp            = "\u200b"
	separator       = " · "
)

// Blocks renders an alert as Slack Block Kit blocks plus the plain notification
// text that Slack shows where blocks cannot be shown. All untrusted text is
// escaped, terms are bolded where they occur, and every Slack limit is met by
// truncation.
func Blocks(a *notifiers.Alert) (blocks []slackgo.Block, fallback string) {
	switch {
	case a.Kind == store.KindHealth:
		return healthBlocks(a)
	case a.Kind == store.KindDigest || a.Kind == store.KindSummary:
		return digestBlocks(a)
	case a.Story == nil && len(a.Stories) > 0:
		return digestBlocks(a)
	case a.Story == nil:
		return healthBlocks(a)
	case a.Kind == store.KindFollowUp:
		return followUpBlocks(a)
	default:
		return alertBlocks(a)
	}
}

func alertBlocks(a *notifiers.Alert) ([]slackgo.Block, string) {
	s := a.Story
	terms := rules.NewHighlighter(a.Terms)
	title := storyTitle(s)
	titleText := fit(title, MaxText, func(t string) string { return Link(s.URL, emphasize(t, terms)) })

	var blocks []slackgo.Block
	snippet := story.Cut(story.Line(s.Summary), maxSnippetRunes)
	if snippet != "" {
		snippetText := fit(snippet, MaxText, func(t string) string { return emphasize(t, terms) })
		if notifiers.UTF16(titleText)+1+notifiers.UTF16(snippetText) <= MaxText {
			blocks = append(blocks, section(titleText+"\n"+snippetText))
		} else {
			blocks = append(blocks, section(titleText), section(snippetText))
		}
	} else {
		blocks = append(blocks, section(titleText))
	}

	var lead []string
	if a.Kind == store.KindSurge {
		lead = append(lead, "Surge")
	}
	blocks = append(blocks, contextBlock(storyContext(lead, s, a.Rules)))

	fallback := fit(title, MaxFallback, func(t string) string {
		if src := story.Cut(story.Line(s.Source), maxSourceRunes); src != "" {
			return Escape(t) + " — " + Escape(src)
		}
		return Escape(t)
	})
	return blocks, fallback
}

func followUpBlocks(a *notifiers.Alert) ([]slackgo.Block, string) {
	s := a.Story
	terms := rules.NewHighlighter(a.Terms)
	title := storyTitle(s)
	lead := "Also reported"
	if src := story.Cut(story.Line(s.Source), maxSourceRunes); src != "" {
		lead = "Also reported by " + Escape(src)
	}
	text := fit(title, MaxText, func(t string) string {
		return lead + ": " + Link(s.URL, emphasize(t, terms))
	})
	fallback := fit(title, MaxFallback, func(t string) string { return lead + ": " + Escape(t) })
	blocks := []slackgo.Block{section(text)}
	if why := notifiers.SharedText(s); why != "" {
		blocks = append(blocks, contextBlock(Escape(why)))
	}
	return blocks, fallback
}

func digestBlocks(a *notifiers.Alert) ([]slackgo.Block, string) {
	terms := rules.NewHighlighter(a.Terms)
	ruleNames := story.Line(strings.Join(a.Rules, ", "))
	n := len(a.Stories)
	total := max(a.Total, n)
	noun := "stories"
	if total == 1 {
		noun = "story"
	}
	var head string
	if a.Kind == store.KindSummary {
		head = fmt.Sprintf("*Summary* — %d more %s", total, noun)
	} else {
		head = fmt.Sprintf("*Digest* — %d %s", total, noun)
	}
	withRules := func(prefix string) func(string) string {
		return func(r string) string {
			if r == "" {
				return prefix
			}
			return prefix + " for " + Escape(r)
		}
	}
	blocks := []slackgo.Block{section(fit(ruleNames, MaxText, withRules(head)))}

	shown := n
	if 1+n > MaxBlocks {
		shown = MaxBlocks - 2 // the heading and the "+N more" line
	}
	for i := range a.Stories[:shown] {
		s := &a.Stories[i]
		meta := storyContext(nil, s, nil)
		text := fit(storyTitle(s), MaxText, func(t string) string {
			out := "• " + Link(s.URL, emphasize(t, terms))
			if meta != "" {
				out += "\n" + meta
			}
			return out
		})
		blocks = append(blocks, section(text))
	}
	if more := total - shown; more > 0 {
		blocks = append(blocks, contextBlock(fmt.Sprintf("+%d more", more)))
	}

	plainHead := strings.NewReplacer("*", "").Replace(head)
	fallback := fit(ruleNames, MaxFallback, withRules(plainHead))
	return blocks, fallback
}

func healthBlocks(a *notifiers.Alert) ([]slackgo.Block, string) {
	text := strings.ToValidUTF8(a.Text, "\uFFFD")
	if strings.TrimSpace(text) == "" {
		text = "wirewatch health alert"
	}
	body := fit(text, MaxText, Escape)
	return []slackgo.Block{section(body)}, fit(text, MaxFallback, Escape)
}

// storyContext renders the context line of a story: lead parts (trusted
// mrkdwn), the source, the published time as a date token and the rules.
func storyContext(lead []string, s *story.Story, rules []string) string {
	parts := append([]string(nil), lead...)
	if src := story.Cut(story.Line(s.Source), maxSourceRunes); src != "" {
		parts = append(parts, Escape(src))
	}
	if d := Date(s.Published); d != "" {
		parts = append(parts, d)
	}
	prefix := strings.Join(parts, separator)
	joined := story.Line(strings.Join(rules, ", "))
	if joined == "" {
		return prefix
	}
	if prefix != "" {
		prefix += separator
	}
	return fit(joined, MaxText, func(r string) string { return prefix + Escape(r) })
}

func storyTitle(s *story.Story) string {
	title := story.Cut(story.Line(s.Title), maxTitleRunes)
	if title == "" {
		title = "(untitled)"
	}
	return title
}

func section(text string) slackgo.Block {
	return slackgo.NewSectionBlock(mrkdwn(text), nil, nil)
}

func contextBlock(text string) slackgo.Block {
	return slackgo.NewContextBlock("", mrkdwn(text))
}

// mrkdwn is a mrkdwn text object. Verbatim stops Slack from turning bare
// URLs, channel names and mentions in the text into links or pings; the links
// written here explicitly still work.
func mrkdwn(text string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, text, false, true)
}

// Escape makes untrusted text literal in Slack mrkdwn: it replaces &, < and >
// with their entities, so "<!channel>" shows as typed and pings no one.
func Escape(s string) string {
	return escaper.Replace(s)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Link returns "<url|label>" for an http or https URL, with the URL made safe
// for the link syntax (spaces, |, <, > and the like percent-encoded, & as an
// entity). label is mrkdwn, already escaped. A URL of another scheme, a
// malformed or an overlong one is not linked: Link then returns label alone.
func Link(rawURL, label string) string {
	u, ok := linkURL(rawURL)
	if !ok {
		return label
	}
	return "<" + u + "|" + label + ">"
}

func linkURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '&':
			b.WriteString("&amp;")
		case c <= ' ' || c >= 0x7f || strings.IndexByte("<>|\"`{}\\^", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() > maxURLBytes {
		return "", false
	}
	return b.String(), true
}

// Date renders t as a Slack date token, which each reader sees in their own
// time zone, with RFC 3339 UTC as the fallback text. The zero time renders as "".
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_short_pretty} {time}|" +
		t.UTC().Format(time.RFC3339) + ">"
}

// Truncate cuts plain text to at most limit Slack characters on a rune
// boundary, preferring a word boundary, and marks the cut with "…". Invalid
// UTF-8 is replaced first. It does not escape.
func Truncate(s string, limit int) string {
	return fit(strings.ToValidUTF8(s, "\uFFFD"), limit, func(t string) string { return t })
}

// fit is notifiers.Fit measured as Slack counts: in UTF-16 code units.
func fit(s string, limit int, render func(string) string) string {
	return notifiers.Fit(s, limit, render, notifiers.UTF16)
}

package mattermost

import (
	"fmt"
	"strings"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
)

// MaxMessage is the longest post Mattermost takes, in characters.
const MaxMessage = 16383

// Message renders an alert as a Mattermost post in Markdown: the headline as
// a link with the matched terms in bold, the start of the summary, and an
// italic line with the source, the date and the rules. Untrusted text has
// every Markdown character backslash-escaped and its "@name"s defused, so
// it can neither format the post nor mention anyone (@channel included).
func Message(a *notifiers.Alert) string {
	m := notifiers.Compose(a)
	switch m.Kind {
	case store.KindHealth:
		return notifiers.Fit(m.Text, MaxMessage, Escape, notifiers.Runes)
	case store.KindDigest, store.KindSummary:
		head := "**" + Escape(m.Subject()) + "**"
		items := make([]string, len(m.Stories))
		for i, it := range m.Stories {
			items[i] = "- " + title(it, m.Terms)
			if meta := it.Meta(""); meta != "" {
				items[i] += " — _" + Escape(meta) + "_"
			}
		}
		return notifiers.Pack(MaxMessage, notifiers.Runes, "\n", head+"\n", items, m.More, func(n int) string {
			return fmt.Sprintf("_+%d more_", n)
		})
	}
	it := m.Stories[0]
	var b strings.Builder
	if m.Heading != "" {
		b.WriteString("**" + Escape(m.Heading) + "**\n")
	}
	b.WriteString("#### " + title(it, m.Terms))
	if it.Summary != "" {
		b.WriteString("\n" + emphasize(it.Summary, m.Terms))
	}
	if meta := it.Meta(m.Rules); meta != "" {
		b.WriteString("\n_" + Escape(meta) + "_")
	}
	return b.String()
}

// title is a story's headline, linked when it has a link.
func title(it notifiers.Item, terms []string) string {
	t := emphasize(it.Title, terms)
	if it.URL == "" {
		return t
	}
	return "[" + t + "](<" + linkEscaper.Replace(it.URL) + ">)"
}

// emphasize escapes s with the matched terms in bold.
func emphasize(s string, terms []string) string {
	return notifiers.Emphasize(s, terms, Escape, func(t string) string { return "**" + Escape(t) + "**" })
}

// Escape makes untrusted text literal in Mattermost's Markdown: every
// character Markdown reads (emphasis, links, code, headings, lists, tables,
// HTML, entities) is backslash-escaped, and "@name" cannot mention.
func Escape(s string) string {
	return escaper.Replace(notifiers.Defuse(s))
}

var escaper = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_{}[]()#+-.!|<>~&" {
		pairs = append(pairs, string(c), `\`+string(c))
	}
	return strings.NewReplacer(pairs...)
}()

// linkEscaper keeps a URL inside <…> of a Markdown link destination.
var linkEscaper = strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20", "\\", "%5C")

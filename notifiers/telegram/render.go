package telegram

import (
	"fmt"
	"html"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
)

// MaxText is the longest message Telegram takes, in UTF-16 code units of
// its text after the HTML is parsed; Text keeps the HTML itself within it,
// which is never less.
const MaxText = 4096

// Text renders an alert as a message in Telegram's HTML parse mode: the
// headline as a link with the matched terms in bold, the start of the
// summary, and a line with the source, the date and the rules. Untrusted text
// is escaped and its "@name"s defused, so it can neither break the markup
// nor ping anyone; the message is kept within MaxText by cutting the raw text
// before escaping.
func Text(a *notifiers.Alert) string {
	m := notifiers.Compose(a)
	switch m.Kind {
	case store.KindHealth:
		return notifiers.Fit(m.Text, MaxText, escape, notifiers.UTF16)
	case store.KindDigest, store.KindSummary:
		head := notifiers.Fit(m.Subject(), 1024, bold, notifiers.UTF16)
		items := make([]string, len(m.Stories))
		for i, it := range m.Stories {
			items[i] = "• " + title(it, m.Terms)
			if meta := it.Meta(""); meta != "" {
				items[i] += " — " + italic(meta)
			}
		}
		return notifiers.Pack(MaxText, notifiers.UTF16, "\n", head, items, m.More, func(n int) string {
			return fmt.Sprintf("<i>+%d more</i>", n)
		})
	}
	it := m.Stories[0]
	var head string
	if m.Heading != "" {
		head = bold(m.Heading) + "\n"
	}
	head += title(it, m.Terms)
	text := head
	var meta string
	if line := it.Meta(m.Rules); line != "" {
		meta = notifiers.Fit(line, MaxText-notifiers.UTF16(head)-1, italic, notifiers.UTF16)
	}
	room := MaxText - notifiers.UTF16(head) - notifiers.UTF16(meta) - 2
	if summary := notifiers.Fit(it.Summary, room, func(s string) string { return emphasize(s, m.Terms) }, notifiers.UTF16); summary != "" {
		text += "\n" + summary
	}
	if meta != "" {
		text += "\n" + meta
	}
	return text
}

// maxHref is the longest link target a message carries, escaped.
const maxHref = 1024

// title is a story's headline, linked when it has a link that is not too long.
func title(it notifiers.Item, terms []string) string {
	t := emphasize(it.Title, terms)
	href := html.EscapeString(it.URL)
	if href == "" || len(href) > maxHref {
		return t
	}
	return `<a href="` + href + `">` + t + "</a>"
}

// escape makes untrusted text literal in Telegram's HTML.
func escape(s string) string { return html.EscapeString(notifiers.Defuse(s)) }

func bold(s string) string { return "<b>" + escape(s) + "</b>" }

func italic(s string) string { return "<i>" + escape(s) + "</i>" }

// emphasize escapes s with the matched terms in bold.
func emphasize(s string, terms []string) string { return notifiers.Emphasize(s, terms, escape, bold) }

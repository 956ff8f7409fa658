package notifiers

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Limits of the parts of a Message, in characters, before any escaping.
const (
	MaxTitle   = 250
	MaxSummary = story.SummaryMax
	MaxSource  = 150
	// MaxURL is the longest link a message carries, in bytes; a longer one is
	// left out rather than cut.
	MaxURL = 2000
)

// Message is an alert in words, before any platform's markup: what to say,
// decided once for every notifier that renders it (Teams, e-mail, ntfy,
// Mattermost, Telegram). Every string in it is untrusted text on one line,
// cut to its limit; a renderer escapes it for its platform and may cut it
// further with Fit.
type Message struct {
	// Kind is the alert's kind; never empty.
	Kind string
	// Heading introduces the message: "Surge", "Also reported by Reuters",
	// "Digest — 12 stories", "Summary — 31 more stories"; empty for a plain
	// alert and a health alert.
	Heading string
	// Stories are the stories the message shows, in the alert's order.
	Stories []Item
	// More is how many stories the message stands for beyond Stories.
	More int
	// Rules are the names of the rules that matched, joined with ", ".
	Rules string
	// Terms are the alert's matched terms, for Runs.
	Terms []string
	// Text is the text of a health alert, which may span lines.
	Text string
}

// Item is one story as a Message shows it.
type Item struct {
	// Title is the headline; "(untitled)" when the story has none.
	Title string
	// URL is the story's http or https link, or "" when it has none fit to link.
	URL string
	// Source is the source's name.
	Source string
	// Published is when the story was published; may be zero.
	Published time.Time
	// Summary is the start of the story's plain-text summary.
	Summary string
}

// Compose decides what a message about a says.
func Compose(a *Alert) Message {
	m := Message{Kind: a.Kind, Rules: story.Cut(story.Line(strings.Join(a.Rules, ", ")), MaxTitle), Terms: a.Terms}
	if m.Kind == "" {
		m.Kind = store.KindAlert
	}
	switch {
	case m.Kind == store.KindHealth || (a.Story == nil && len(a.Stories) == 0):
		m.Kind = store.KindHealth
		m.Text = strings.TrimSpace(strings.ToValidUTF8(a.Text, "\uFFFD"))
		if m.Text == "" {
			m.Text = "wirewatch health alert"
		}
		return m
	case a.Story != nil && m.Kind != store.KindDigest && m.Kind != store.KindSummary:
		it := item(a.Story)
		m.Stories = []Item{it}
		switch m.Kind {
		case store.KindFollowUp:
			m.Heading = "Also reported"
			if it.Source != "" {
				m.Heading += " by " + it.Source
			}
			if why := SharedText(a.Story); why != "" {
				m.Heading += " (" + why + ")"
			}
		case store.KindSurge:
			m.Heading = "Surge"
			if t := story.Line(a.Text); t != "" {
				m.Heading += ": " + story.Cut(t, MaxTitle)
			}
		}
		return m
	}
	for i := range a.Stories {
		m.Stories = append(m.Stories, item(&a.Stories[i]))
	}
	total := max(a.Total, len(m.Stories))
	m.More = total - len(m.Stories)
	noun := "stories"
	if total == 1 {
		noun = "story"
	}
	if m.Kind == store.KindSummary {
		m.Heading = fmt.Sprintf("Summary — %d more %s", total, noun)
	} else {
		m.Kind = store.KindDigest
		m.Heading = fmt.Sprintf("Digest — %d %s", total, noun)
	}
	return m
}

// maxShared is the longest SharedText, in characters.
const maxShared = 200

// SharedText says in one line why a follow-up is the same event as the
// story it joined, when its facts joined it: "same Tarrant, 900, Wichita";
// "" when it joined as a copy or started its cluster. The names come from
// an untrusted text; a renderer escapes them.
func SharedText(s *story.Story) string {
	if s == nil || len(s.ClusterWhy) == 0 {
		return ""
	}
	parts := make([]string, 0, len(s.ClusterWhy))
	for _, w := range s.ClusterWhy {
		if w = story.Line(w); w != "" {
			parts = append(parts, w)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return story.Cut("same "+strings.Join(parts, ", "), maxShared)
}

// Subject is a one-line summary of the message, for a notification title or
// an e-mail subject: the heading and the first story's title.
func (m Message) Subject() string {
	switch {
	case m.Kind == store.KindHealth:
		return story.Cut(story.Line(m.Text), MaxTitle)
	case m.Kind == store.KindDigest || m.Kind == store.KindSummary:
		if m.Rules != "" {
			return m.Heading + " for " + m.Rules
		}
		return m.Heading
	case m.Heading != "":
		return m.Heading + ": " + m.Stories[0].Title
	}
	return m.Stories[0].Title
}

// Date is when the story was published, in UTC, as "28 Nov 2026 09:00 UTC";
// "" when unknown.
func (it Item) Date() string {
	if it.Published.IsZero() {
		return ""
	}
	return it.Published.UTC().Format("2 Jan 2006 15:04 UTC")
}

// Meta is the line under a story: its source, its date and, when given,
// the rules that matched, each of them when known, joined with " · ".
func (it Item) Meta(rules string) string {
	var parts []string
	for _, p := range []string{it.Source, it.Date()} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if rules != "" {
		parts = append(parts, "rule: "+rules)
	}
	return strings.Join(parts, " · ")
}

func item(s *story.Story) Item {
	it := Item{
		Title:     story.Cut(story.Line(s.Title), MaxTitle),
		URL:       Link(s.URL),
		Source:    story.Cut(story.Line(s.Source), MaxSource),
		Published: s.Published,
		Summary:   story.Cut(story.Line(s.Summary), MaxSummary),
	}
	if it.Title == "" {
		it.Title = "(untitled)"
	}
	return it
}

// Link returns raw when it is an http or https URL with a host of at most
// MaxURL bytes, else "". Such a URL holds no space or control character.
func Link(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > MaxURL ||
		strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r > unicode.MaxASCII }) {
		return ""
	}
	return raw
}

// Run is a piece of text that is or is not a matched term.
type Run struct {
	Text string
	Term bool
}

// Runs splits text at the alert's matched terms, so that a renderer can
// escape each piece and show the terms in bold.
func Runs(text string, terms []string) []Run {
	var out []Run
	last := 0
	for _, sp := range rules.NewHighlighter(terms).Spans(text) {
		if sp.Start > last {
			out = append(out, Run{Text: text[last:sp.Start]})
		}
		out = append(out, Run{Text: text[sp.Start:sp.End], Term: true})
		last = sp.End
	}
	if last < len(text) {
		out = append(out, Run{Text: text[last:]})
	}
	return out
}

// Emphasize renders text for a markup: each piece that is a matched term
// with bold, every other piece with escape. Both are given raw text and
// escape it.
func Emphasize(text string, terms []string, escape, bold func(string) string) string {
	var b strings.Builder
	for _, r := range Runs(text, terms) {
		if r.Term {
			b.WriteString(bold(r.Text))
		} else {
			b.WriteString(escape(r.Text))
		}
	}
	return b.String()
}

// Fit renders s with render, cut so that the result measures at most max
// with measure (Runes, UTF16 or Bytes). The raw text is cut before it is
// rendered — at a word boundary where one is near, marked with "…" — so an
// escape is never split. It returns "" when not even the mark fits.
func Fit(s string, max int, render func(string) string, measure func(string) int) string {
	if out := render(s); measure(out) <= max {
		return out
	}
	best := ""
	for lo, hi := 1, utf8.RuneCountInString(s)-1; lo <= hi; {
		mid := (lo + hi) / 2
		if out := render(story.Cut(s, mid)); measure(out) <= max {
			best, lo = out, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best
}

// Runes counts characters.
func Runes(s string) int { return utf8.RuneCountInString(s) }

// UTF16 counts UTF-16 code units, as Telegram and Slack count characters.
func UTF16(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// Bytes counts bytes.
func Bytes(s string) int { return len(s) }

// Pack joins head and as many of items as fit in max, measured with
// measure, each after sep. When items are left out, or more says there are
// other stories, it ends with sep and more(n) for the n not shown. Items are
// kept in order: the first that does not fit ends the list.
func Pack(max int, measure func(string) int, sep, head string, items []string, more int, moreLine func(n int) string) string {
	for k := len(items); k >= 0; k-- {
		out := head
		for _, it := range items[:k] {
			out += sep + it
		}
		if n := len(items) - k + more; n > 0 {
			out += sep + moreLine(n)
		}
		if measure(out) <= max || k == 0 {
			return out
		}
	}
	return head
}

// wordJoiner is an invisible character that keeps "@" apart from the name
// after it.
const wordJoiner = "\u2060"

// Defuse breaks every "@name" in untrusted text with an invisible word
// joiner after the "@", for platforms that read "@name" in message text as a
// ping (Mattermost's @channel, Telegram's @username). The text reads the same.
func Defuse(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		b.WriteRune(r)
		if r == '@' {
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); next == '_' || unicode.IsLetter(next) || unicode.IsDigit(next) {
				b.WriteString(wordJoiner)
			}
		}
	}
	return b.String()
}

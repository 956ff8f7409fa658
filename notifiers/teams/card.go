package teams

import (
	"encoding/json"
	"fmt"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
)

// MaxPayload is the largest message the notifier sends, in bytes: Teams
// refuses messages over about 28 KB.
const MaxPayload = 27 * 1024

// message is what a Workflows webhook takes: a message with one Adaptive
// Card attachment.
type message struct {
	Type        string       `json:"type"`
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	MSTeams map[string]any `json:"msteams,omitempty"`
	Body    []Block        `json:"body"`
	Actions []Action       `json:"actions,omitempty"`
}

// Block is a RichTextBlock: runs of text that Teams shows as they are.
type Block struct {
	Type    string `json:"type"`
	Inlines []Run  `json:"inlines"`
	Wrap    bool   `json:"wrap,omitempty"`
	Spacing string `json:"spacing,omitempty"`
}

// Run is a TextRun. Its text is never read as Markdown, so untrusted text
// needs no escaping: markup and "<at>" mentions in it show as typed.
type Run struct {
	Type         string  `json:"type"`
	Text         string  `json:"text"`
	Weight       string  `json:"weight,omitempty"`
	Size         string  `json:"size,omitempty"`
	Color        string  `json:"color,omitempty"`
	IsSubtle     bool    `json:"isSubtle,omitempty"`
	SelectAction *Action `json:"selectAction,omitempty"`
}

// Action is an Action.OpenUrl.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url"`
}

func openURL(title, url string) *Action {
	return &Action{Type: "Action.OpenUrl", Title: title, URL: url}
}

func block(runs ...Run) Block { return Block{Type: "RichTextBlock", Inlines: runs} }

func text(s string) Run { return Run{Type: "TextRun", Text: s} }

// NewCard renders an alert as an Adaptive Card: the headline linked, the
// matched terms in bold, the start of the summary, a subtle line with the
// source, date and rules, and an "Open story" button. Digests list their
// stories as linked lines, as many as fit in MaxPayload.
func NewCard(a *notifiers.Alert) Card {
	m := notifiers.Compose(a)
	c := Card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		MSTeams: map[string]any{"width": "Full"},
	}
	heading := func(s string) {
		c.Body = append(c.Body, block(Run{Type: "TextRun", Text: s, Weight: "Bolder"}))
	}
	switch m.Kind {
	case store.KindHealth:
		heading("wirewatch health")
		// At most six bytes of JSON a character: within MaxPayload.
		c.Body = append(c.Body, block(text(notifiers.Fit(m.Text, MaxPayload/8, func(s string) string { return s }, notifiers.Runes))))
		return c
	case store.KindDigest, store.KindSummary:
		heading(m.Subject())
		shown := 0
		for _, it := range m.Stories {
			runs := append([]Run{text("• ")}, title(it, m.Terms, "")...)
			if meta := it.Meta(""); meta != "" {
				runs = append(runs, Run{Type: "TextRun", Text: " — " + meta, IsSubtle: true})
			}
			c.Body = append(c.Body, block(runs...))
			if size(c) > MaxPayload-256 {
				c.Body = c.Body[:len(c.Body)-1]
				break
			}
			shown++
		}
		if more := len(m.Stories) - shown + m.More; more > 0 {
			c.Body = append(c.Body, block(Run{Type: "TextRun", Text: fmt.Sprintf("+%d more", more), IsSubtle: true}))
		}
		return c
	}
	it := m.Stories[0]
	if m.Heading != "" {
		heading(m.Heading)
	}
	c.Body = append(c.Body, block(title(it, m.Terms, "Medium")...))
	if it.Summary != "" {
		c.Body = append(c.Body, block(emphasize(it.Summary, m.Terms, "")...))
	}
	if meta := it.Meta(m.Rules); meta != "" {
		c.Body = append(c.Body, block(Run{Type: "TextRun", Text: meta, IsSubtle: true, Size: "Small"}))
	}
	if it.URL != "" {
		c.Actions = []Action{*openURL("Open story", it.URL)}
	}
	return c
}

// title is a story's headline as runs, each a link to the story when it has
// one, the matched terms in bold.
func title(it notifiers.Item, terms []string, size string) []Run {
	runs := emphasize(it.Title, terms, size)
	for i := range runs {
		runs[i].Color = "Accent"
		if it.URL != "" {
			runs[i].SelectAction = openURL("", it.URL)
		}
	}
	return runs
}

// emphasize splits s into runs with the matched terms in bold.
func emphasize(s string, terms []string, size string) []Run {
	var runs []Run
	for _, r := range notifiers.Runs(s, terms) {
		run := Run{Type: "TextRun", Text: r.Text, Size: size}
		if r.Term {
			run.Weight = "Bolder"
		}
		runs = append(runs, run)
	}
	return runs
}

// Payload is the JSON a Workflows webhook takes for card.
func Payload(card Card) ([]byte, error) {
	return json.Marshal(message{Type: "message", Attachments: []attachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: card,
	}}})
}

func size(c Card) int {
	b, _ := Payload(c)
	return len(b)
}

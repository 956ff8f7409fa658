package notifiers

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Payload is the JSON form of an alert that the console prints and the webhook POSTs.
type Payload struct {
	// Kind is the alert's kind; omitted for plain alerts.
	Kind string `json:"kind,omitempty"`
	// Rules are the names of the rules that matched.
	Rules []string `json:"rules"`
	// Target is the target the alert is for (the notifier name for console and webhook).
	Target string `json:"target"`
	// Story is the story of an instant alert or follow-up.
	Story *PayloadStory `json:"story,omitempty"`
	// Stories are the stories of a digest or summary, in place of Story.
	Stories []PayloadStory `json:"stories,omitempty"`
	// Total is how many stories a digest or summary stands for, when Stories
	// lists only the newest of them.
	Total int `json:"total,omitempty"`
	// Terms are the distinct positive query terms that matched; [] rather than null.
	Terms []string `json:"terms"`
	// Cluster is the stable id of the story's cluster of near-duplicates.
	Cluster string `json:"cluster,omitempty"`
	// FollowUp marks a later copy of a story posted under the first alert.
	FollowUp bool `json:"follow_up,omitempty"`
	// Shared are, on a follow-up that another outlet wrote in its own
	// words, the names and numbers it shares with the story it joined: why
	// the two are one event.
	Shared []string `json:"shared,omitempty"`
	// Text is the message of kinds that are not about stories (health).
	Text string `json:"text,omitempty"`
}

// PayloadStory is a story as the payload shows it.
type PayloadStory struct {
	// ID is the story's stable id.
	ID string `json:"id"`
	// Title is the headline, held again to story.TitleMax characters and
	// cleaned as story.Line does (no control or bidirectional characters).
	Title string `json:"title"`
	// URL is the story's link.
	URL string `json:"url"`
	// Source is the source's display name.
	Source string `json:"source"`
	// Published is the publication time in UTC, whole seconds (RFC 3339 in JSON).
	Published time.Time `json:"published"`
	// Summary is the story's plain-text summary, held again to story.SummaryMax
	// characters at a word boundary whatever the story was handed.
	Summary string `json:"summary"`
}

// NewPayload returns the payload of a. Kind is left out for plain alerts, and
// Rules and Terms are empty lists rather than null.
func NewPayload(a *Alert) Payload {
	p := Payload{
		Rules:   nonNil(a.Rules),
		Target:  a.Target,
		Terms:   nonNil(a.Terms),
		Cluster: a.Cluster,
		Text:    a.Text,
	}
	if a.Kind != store.KindAlert {
		p.Kind = a.Kind
	}
	p.FollowUp = a.Kind == store.KindFollowUp
	if p.FollowUp && a.Story != nil {
		p.Shared = a.Story.ClusterWhy
	}
	if a.Story != nil {
		s := newPayloadStory(a.Story)
		p.Story = &s
	}
	if a.Total > len(a.Stories) {
		p.Total = a.Total
	}
	for i := range a.Stories {
		p.Stories = append(p.Stories, newPayloadStory(&a.Stories[i]))
	}
	return p
}

// JSONLine returns p as one line of JSON ending in a newline. Characters such
// as <, > and & are written as they are, not as \u escapes, so that the line
// reads as the text it carries.
func (p Payload) JSONLine() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func newPayloadStory(s *story.Story) PayloadStory {
	return PayloadStory{
		ID:        s.ID,
		Title:     story.Cut(story.Line(s.Title), story.TitleMax),
		URL:       s.URL,
		Source:    story.Line(s.Source),
		Published: s.Published.UTC().Truncate(time.Second),
		Summary:   story.Cut(story.Line(s.Summary), story.SummaryMax),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

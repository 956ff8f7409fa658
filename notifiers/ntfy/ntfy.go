// Package ntfy is the ntfy notifier: each alert is published as JSON to an
// ntfy server, with a title, a plain-text message, the story's link as the
// click action, tags and a priority, so it arrives as a push notification on
// phones and desktops. ntfy has no threads: a follow-up is a notification of
// its own titled "Also reported by …".
package ntfy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

var _ notifiers.Notifier = (*Notifier)(nil)

// Limits of a notification that Publication keeps to.
const (
	// MaxMessage is the longest message ntfy.sh delivers as text, in bytes;
	// a longer one becomes an attachment.
	MaxMessage = 4096
	// MaxTitle is the longest title, in characters.
	MaxTitle = 250
	// maxTags is how many tags a notification carries.
	maxTags = 10
)

// Notifier publishes alerts to ntfy topics.
type Notifier struct {
	name  string
	url   string
	topic string
	auth  string // Authorization header, or ""
	c     Config
	http  *notifiers.HTTP
}

// New returns the notifier named name of a [[notifiers]] entry of type "ntfy".
func New(name string, c *Config, env notifiers.Env) (*Notifier, error) {
	base := c.URL
	if base == "" {
		base = DefaultURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ntfy %q: url %q is not an http(s) URL", name, base)
	}
	if err := checkTopic(c.Topic); err != nil {
		return nil, fmt.Errorf("ntfy %q: %w", name, err)
	}
	var auth string
	var secrets []string
	switch {
	case c.Token != "":
		auth = "Bearer " + c.Token.Reveal()
		secrets = append(secrets, c.Token.Reveal())
	case c.Username != "":
		basic := base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password.Reveal()))
		auth = "Basic " + basic
		secrets = append(secrets, c.Password.Reveal(), basic)
	}
	return &Notifier{
		name: name, url: strings.TrimSuffix(base, "/") + "/", topic: c.Topic, auth: auth, c: *c,
		http: notifiers.NewHTTP(env, secrets...),
	}, nil
}

// Publication is a notification as ntfy's JSON publishing takes it.
type Publication struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Click    string   `json:"click,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Markdown bool     `json:"markdown"`
}

// Publish renders a for topic: the title is the headline (or what the
// message is about), the message the summary and a line with the source, date
// and rules, or for a digest one line per story. Markdown is off, so the text
// shows as written.
func (n *Notifier) Publish(a *notifiers.Alert, topic string) Publication {
	m := notifiers.Compose(a)
	p := Publication{Topic: topic, Title: story.Cut(m.Subject(), MaxTitle), Priority: n.c.Priority}
	for _, t := range n.c.Tags {
		p.Tags = append(p.Tags, story.Line(t))
	}
	for _, r := range a.Rules {
		if r = story.Cut(story.Line(r), 64); r != "" && len(p.Tags) < maxTags {
			p.Tags = append(p.Tags, r)
		}
	}
	plain := func(s string) string { return s }
	switch m.Kind {
	case store.KindHealth:
		p.Title = "wirewatch health"
		p.Message = notifiers.Fit(m.Text, MaxMessage, plain, notifiers.Bytes)
		p.Priority = max(p.Priority, 4)
	case store.KindDigest, store.KindSummary:
		lines := make([]string, len(m.Stories))
		for i, it := range m.Stories {
			lines[i] = "• " + it.Title
			if meta := it.Meta(""); meta != "" {
				lines[i] += " — " + meta
			}
		}
		p.Message = notifiers.Pack(MaxMessage, notifiers.Bytes, "\n", m.Heading, lines, m.More, func(k int) string {
			return fmt.Sprintf("+%d more", k)
		})
	default:
		it := m.Stories[0]
		p.Click = it.URL
		meta := it.Meta(m.Rules)
		p.Message = notifiers.Fit(it.Summary, MaxMessage-len(meta)-1, plain, notifiers.Bytes)
		if p.Message == "" {
			p.Message = it.Title
		}
		p.Message += "\n" + meta
	}
	return p
}

// answer is what ntfy says about a publication.
type answer struct {
	ID    string `json:"id"`
	Error string `json:"error"`
	Link  string `json:"link"`
}

// Notify publishes a to the target's topic, or the entry's, and returns the
// notification's id.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	topic := n.topic
	if a.Channel != "" {
		if err := checkTopic(a.Channel); err != nil {
			return "", false, fmt.Errorf("ntfy %q: %w", n.name, err)
		}
		topic = a.Channel
	}
	body, err := json.Marshal(n.Publish(a, topic))
	if err != nil {
		return "", false, fmt.Errorf("ntfy %q: encode: %w", n.name, err)
	}
	req := notifiers.JSON(n.url, body)
	if n.auth != "" {
		req.Header = http.Header{"Authorization": {n.auth}}
	}
	req.Explain = explain
	ans, retry, err := n.http.Send(ctx, req)
	if err != nil {
		return "", retry, fmt.Errorf("ntfy %q: publish to %s: %w", n.name, topic, err)
	}
	var ok answer
	_ = json.Unmarshal(ans.Body, &ok)
	return ok.ID, false, nil
}

// explain reads ntfy's error answer.
func explain(a notifiers.Answer) (string, time.Duration) {
	var e answer
	if json.Unmarshal(a.Body, &e) != nil || e.Error == "" {
		return "", 0
	}
	switch a.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Error += "; check the token or the user's access to the topic"
	}
	return e.Error, 0
}

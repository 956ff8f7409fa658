// Package teams is the Microsoft Teams notifier: each alert is an Adaptive
// Card posted to a Teams Workflows webhook ("When a Teams webhook request is
// received" → "Post card in a chat or channel"). A webhook returns no message
// id, so follow-ups cannot be replies: each is a card of its own headed "Also
// reported by …".
package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
)

var _ notifiers.Notifier = (*Notifier)(nil)

// Notifier posts alerts to one Workflows webhook.
type Notifier struct {
	name string
	url  string
	http *notifiers.HTTP
}

// New returns the notifier named name of a [[notifiers]] entry of type "teams".
func New(name string, c *Config, env notifiers.Env) (*Notifier, error) {
	raw, h, err := notifiers.NewHookHTTP(env, c.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("teams %q: %w", name, err)
	}
	return &Notifier{name: name, url: raw, http: h}, nil
}

// Notify posts a's card. It returns no reference: the webhook answers 202
// without a message id.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	body, err := Payload(NewCard(a))
	if err != nil {
		return "", false, fmt.Errorf("teams %q: encode: %w", n.name, err)
	}
	req := notifiers.JSON(n.url, body)
	req.Explain = explain
	if _, retry, err := n.http.Send(ctx, req); err != nil {
		return "", retry, fmt.Errorf("teams %q: %w", n.name, err)
	}
	return "", false, nil
}

// explain reads the error a workflow answers with.
func explain(a notifiers.Answer) (string, time.Duration) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(a.Body, &e) != nil || e.Error.Message == "" {
		return "", 0
	}
	reason := e.Error.Message
	if e.Error.Code != "" {
		reason = e.Error.Code + ": " + reason
	}
	return reason, 0
}

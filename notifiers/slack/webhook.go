package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notifiers"
)

// Webhook posts alerts to the one channel of a Slack incoming webhook.
type Webhook struct {
	name   string
	url    string
	http   *notifiers.HTTP
	logger *slog.Logger
}

// NewWebhook builds the notifier named name of a [[notifiers]] entry of type
// "slack-webhook"; url is the webhook's (secret) URL.
func NewWebhook(name string, c *WebhookConfig, env notifiers.Env) (*Webhook, error) {
	raw, h, err := notifiers.NewHookHTTP(env, c.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("slack-webhook %q: %w", name, err)
	}
	return &Webhook{name: name, url: raw, http: h, logger: env.Log()}, nil
}

// webhookMessage is the JSON an incoming webhook takes.
type webhookMessage struct {
	Text        string          `json:"text"`
	Blocks      []slackgo.Block `json:"blocks"`
	UnfurlLinks bool            `json:"unfurl_links"`
	UnfurlMedia bool            `json:"unfurl_media"`
}

// Notify posts one alert. A webhook returns no message reference, so ref is
// always "" and follow-ups are posted at top level.
func (w *Webhook) Notify(ctx context.Context, a *notifiers.Alert) (ref string, retry bool, err error) {
	if missingStory(a) {
		return "", false, w.errorf(errors.New("alert has no story"))
	}
	blocks, fallback := Blocks(a)
	body, err := json.Marshal(webhookMessage{Text: fallback, Blocks: blocks})
	if err != nil {
		return "", false, w.errorf(err)
	}
	if _, retry, err := w.http.Send(ctx, notifiers.JSON(w.url, body)); err != nil {
		return "", retry, w.errorf(err)
	}
	w.logger.DebugContext(ctx, "slack webhook posted", "target", a.Target)
	return "", false, nil
}

func (w *Webhook) errorf(err error) error {
	return fmt.Errorf("slack-webhook %q: %w", w.name, err)
}

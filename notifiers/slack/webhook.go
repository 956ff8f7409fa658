package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// Webhook posts alerts to the one channel of a Slack incoming webhook.
type Webhook struct {
	name    string
	url     string
	client  *http.Client
	now     func() time.Time
	secrets []string
	logger  *slog.Logger
	pacer   *pacer
}

// NewWebhook builds the notifier of a [[notifiers]] entry of type
// "slack-webhook"; url is the webhook's (secret) URL. logger is used as given.
func NewWebhook(cfg config.Notifier, logger *slog.Logger, opts ...Option) (*Webhook, error) {
	if cfg.Type != "slack-webhook" {
		return nil, fmt.Errorf("slack-webhook %q: type is %q, not \"slack-webhook\"", cfg.Name, cfg.Type)
	}
	raw := cfg.URL.Reveal()
	if raw == "" {
		return nil, fmt.Errorf("slack-webhook %q: url is empty", cfg.Name)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slack-webhook %q: url is not an http(s) URL", cfg.Name)
	}
	secrets := []string{raw}
	if len(u.Path) > 1 {
		secrets = append(secrets, u.Path) // the path carries the webhook's key
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := buildOptions(opts)
	return &Webhook{
		name:    cfg.Name,
		url:     raw,
		secrets: secrets,
		client:  o.client,
		now:     o.now,
		logger:  logger,
		pacer:   newPacer(o.interval, o.now, o.sleep),
	}, nil
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
	if err := ctx.Err(); err != nil {
		return "", true, w.errorf(err)
	}
	if missingStory(a) {
		return "", false, w.errorf(errors.New("alert has no story"))
	}
	blocks, fallback := Blocks(a)
	body, err := json.Marshal(webhookMessage{Text: fallback, Blocks: blocks})
	if err != nil {
		return "", false, w.errorf(err)
	}
	if err := w.pacer.wait(ctx, ""); err != nil {
		return "", true, w.errorf(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return "", false, w.errorf(stripURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return "", true, w.errorf(stripURL(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		w.logger.DebugContext(ctx, "slack webhook posted", "target", a.Target)
		return "", false, nil
	}
	err = fmt.Errorf("status %d%s", resp.StatusCode, w.detail(msg))
	if resp.StatusCode == http.StatusTooManyRequests {
		if d := notifiers.ParseRetryAfter(resp.Header.Get("Retry-After"), w.now()); d > 0 {
			err = &notifiers.RetryAfterError{After: d, Err: err}
		}
	}
	return "", notifiers.RetryStatus(resp.StatusCode), w.errorf(err)
}

// detail is the start of Slack's answer ("no_service", "invalid_payload"),
// printable and scrubbed, or "" when it has none worth showing.
func (w *Webhook) detail(body []byte) string {
	s := strings.ToValidUTF8(string(body), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "<") {
		return ""
	}
	return ": " + Truncate(scrubString(s, w.secrets), 200)
}

func (w *Webhook) errorf(err error) error {
	return scrub(fmt.Errorf("slack-webhook %q: post: %w", w.name, err), w.secrets)
}

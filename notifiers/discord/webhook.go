package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/notifiers"
)

// webhookPathRE matches ".../webhooks/{id}/{token}" at the end of a webhook
// URL's path ("/api/webhooks/…" as Discord hands them out, or "/api/v10/webhooks/…").
var webhookPathRE = regexp.MustCompile(`^(/(?:[^/]+/)*)webhooks/([0-9]{1,20})/([^/]+)/?$`)

// errWebhookURL names the expected form without repeating the secret URL.
var errWebhookURL = errors.New("url is not a Discord webhook URL (want https://discord.com/api/webhooks/ID/TOKEN)")

// Webhook posts alerts through a Discord webhook URL. It needs no bot, and so
// cannot reply: follow-ups go at the top level of the webhook's channel (or
// of its thread).
type Webhook struct {
	name     string
	id       string
	endpoint string // the execute URL without its query; holds the token
	threadID string
	redactor *notifiers.Redactor
	logger   *slog.Logger
	session  *discordgo.Session
	now      func() time.Time
}

var _ notifiers.Notifier = (*Webhook)(nil)

// NewWebhook returns the notifier named name of a [[notifiers]] entry of
// type "discord-webhook". Messages go to the host of the webhook URL itself,
// so a test fake or a proxy is reached by giving its URL; APIURL, when set,
// takes precedence as the base for the execute call. A thread_id (in the
// entry or as the URL's thread_id parameter) posts into that thread.
func NewWebhook(name string, c *WebhookConfig, env notifiers.Env) (*Webhook, error) {
	wrap := func(err error) error { return fmt.Errorf("discord-webhook %q: %w", name, err) }
	raw := strings.TrimSpace(c.URL.Reveal())
	if raw == "" {
		return nil, wrap(errors.New("url is empty"))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, wrap(errWebhookURL)
	}
	m := webhookPathRE.FindStringSubmatch(u.EscapedPath())
	if m == nil {
		return nil, wrap(errWebhookURL)
	}
	prefix, id, token := m[1], m[2], m[3]
	endpoint := u.Scheme + "://" + u.Host + prefix + "webhooks/" + id + "/" + token
	if c.APIURL != "" {
		b, err := parseAPIBase(c.APIURL)
		if err != nil {
			return nil, wrap(err)
		}
		endpoint = b.derive().webhooks + id + "/" + token
	}
	threadID := c.ThreadID
	if threadID == "" {
		threadID = u.Query().Get("thread_id")
	}
	if threadID != "" && !isSnowflake(threadID) {
		return nil, wrap(fmt.Errorf("thread_id %q is not a Discord channel id", threadID))
	}
	plainToken, _ := url.PathUnescape(token)
	return &Webhook{
		name:     name,
		id:       id,
		endpoint: endpoint,
		threadID: threadID,
		redactor: notifiers.NewRedactor(raw, endpoint, token, plainToken),
		logger:   env.Log(),
		session:  session("", env), // the token is in the URL; no Authorization header
		now:      env.Clock(),
	}, nil
}

// Notify executes the webhook with a as an embed and wait=true, so that
// Discord answers with the message, whose id it returns.
func (w *Webhook) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	op := fmt.Sprintf("discord-webhook %q: execute", w.name)
	params := &discordgo.WebhookParams{
		Embeds:          Embeds(a),
		AllowedMentions: noMentions(),
	}
	q := url.Values{"wait": {"true"}}
	if w.threadID != "" {
		q.Set("thread_id", w.threadID)
	}
	if err := ctx.Err(); err != nil {
		return "", true, fmt.Errorf("%s: %w", op, err)
	}
	ex := &exchange{}
	body, err := w.session.RequestWithBucketID("POST", w.endpoint+"?"+q.Encode(), params, "webhook/"+w.id,
		discordgo.WithContext(withExchange(ctx, ex)),
		discordgo.WithRetryOnRatelimit(false),
		discordgo.WithRestRetries(0))
	if err != nil {
		if delivered(ex) {
			w.logger.Warn("discord accepted the message but its answer was unreadable", "target", a.Target, "status", ex.status)
			return "", false, nil
		}
		retry, err := sendError(op, true, err, ex, w.now(), w.redactor)
		return "", retry, err
	}
	var msg discordgo.Message
	if err := discordgo.Unmarshal(body, &msg); err != nil {
		w.logger.Warn("discord accepted the message but its answer was unreadable", "target", a.Target, "status", ex.status)
		return "", false, nil
	}
	return msg.ID, false, nil
}

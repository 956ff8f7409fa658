// Package mattermost is the Mattermost notifier. Type "mattermost" posts as
// a bot through the REST API (POST /api/v4/posts) to the channel its target
// names, and threads follow-ups under the first alert with root_id; type
// "mattermost-webhook" posts through an incoming webhook, which returns no
// post id, so its follow-ups are posts of their own. Sending, retrying and
// redaction are the notifiers kit's; this package writes the Markdown and
// reads Mattermost's answers.
package mattermost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
)

var (
	_ notifiers.Notifier = (*Notifier)(nil)
	_ notifiers.Notifier = (*Webhook)(nil)
)

// Notifier posts alerts to Mattermost channels as a bot.
type Notifier struct {
	name  string
	posts string // the server's /api/v4/posts
	token string
	http  *notifiers.HTTP
}

// New returns the notifier named name of a [[notifiers]] entry of type
// "mattermost".
func New(name string, c *Config, env notifiers.Env) (*Notifier, error) {
	token := strings.TrimSpace(c.Token.Reveal())
	if token == "" {
		return nil, fmt.Errorf("mattermost %q: token is empty", name)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mattermost %q: url %q is not an http(s) URL", name, c.URL)
	}
	return &Notifier{
		name:  name,
		posts: strings.TrimSuffix(c.URL, "/") + "/api/v4/posts",
		token: token,
		http:  notifiers.NewHTTP(env, token),
	}, nil
}

// post is the body of POST /api/v4/posts, and the part of its answer read.
type post struct {
	ID        string `json:"id,omitempty"`
	ChannelID string `json:"channel_id"`
	Message   string `json:"message"`
	RootID    string `json:"root_id,omitempty"`
}

// Notify posts a to the channel of its target and returns the post's id; a
// follow-up goes into the thread of the post ParentRef names.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	if err := checkChannel(a.Channel); err != nil {
		return "", false, fmt.Errorf("mattermost %q: %w", n.name, err)
	}
	body, err := json.Marshal(post{ChannelID: a.Channel, Message: Message(a), RootID: a.ParentRef})
	if err != nil {
		return "", false, fmt.Errorf("mattermost %q: encode: %w", n.name, err)
	}
	req := notifiers.JSON(n.posts, body)
	req.Header = http.Header{"Authorization": {"Bearer " + n.token}}
	req.Explain = explain
	ans, retry, err := n.http.Send(ctx, req)
	if err != nil {
		return "", retry, fmt.Errorf("mattermost %q: post to channel %s: %w", n.name, a.Channel, err)
	}
	var created post
	if json.Unmarshal(ans.Body, &created) != nil {
		return "", false, nil // posted; follow-ups will not thread under it
	}
	return created.ID, false, nil
}

// Webhook posts alerts through a Mattermost incoming webhook.
type Webhook struct {
	name string
	url  string
	http *notifiers.HTTP
}

// NewWebhook returns the notifier named name of a [[notifiers]] entry of
// type "mattermost-webhook".
func NewWebhook(name string, c *WebhookConfig, env notifiers.Env) (*Webhook, error) {
	raw, h, err := notifiers.NewHookHTTP(env, c.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("mattermost-webhook %q: %w", name, err)
	}
	return &Webhook{name: name, url: raw, http: h}, nil
}

// Notify posts a through the webhook. A webhook returns no post id, so a
// follow-up is a post of its own that says which story it follows.
func (w *Webhook) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	body, err := json.Marshal(map[string]string{"text": Message(a)})
	if err != nil {
		return "", false, fmt.Errorf("mattermost-webhook %q: encode: %w", w.name, err)
	}
	req := notifiers.JSON(w.url, body)
	req.Explain = explain
	if _, retry, err := w.http.Send(ctx, req); err != nil {
		return "", retry, fmt.Errorf("mattermost-webhook %q: %w", w.name, err)
	}
	return "", false, nil
}

// explain reads Mattermost's error answer: its message, a hint for what a
// person must fix, and on 429 the wait of X-Ratelimit-Reset.
func explain(a notifiers.Answer) (string, time.Duration) {
	var e struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(a.Body, &e)
	reason := e.Message
	switch a.Status {
	case http.StatusUnauthorized:
		reason += "; check the token"
	case http.StatusForbidden:
		reason += "; add the bot to the channel's team and the channel"
	case http.StatusNotFound:
		reason += "; check the channel id (or the webhook URL)"
	}
	var wait time.Duration
	if a.Status == http.StatusTooManyRequests && a.Header.Get("Retry-After") == "" {
		if s, err := strconv.Atoi(a.Header.Get("X-Ratelimit-Reset")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
	}
	return strings.TrimPrefix(reason, "; "), wait
}

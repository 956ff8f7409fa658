// Package telegram is the Telegram notifier: a bot posts each alert with the
// Bot API's sendMessage in HTML parse mode, to the chat its target names.
// Follow-ups reply to the first alert's message. Sending, retrying and
// redaction are the notifiers kit's; this package builds the message and
// reads Telegram's answers.
package telegram

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

var _ notifiers.Notifier = (*Notifier)(nil)

// Notifier posts alerts to Telegram chats as a bot.
type Notifier struct {
	name     string
	endpoint string // …/bot<token>/sendMessage; holds the token
	http     *notifiers.HTTP
}

// New returns the notifier named name of a [[notifiers]] entry of type
// "telegram".
func New(name string, c *Config, env notifiers.Env) (*Notifier, error) {
	token := strings.TrimSpace(c.Token.Reveal())
	if token == "" {
		return nil, fmt.Errorf("telegram %q: token is empty", name)
	}
	base := c.APIURL
	if base == "" {
		base = DefaultAPIURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telegram %q: api_url %q is not an http(s) URL", name, base)
	}
	return &Notifier{
		name:     name,
		endpoint: strings.TrimSuffix(base, "/") + "/bot" + token + "/sendMessage",
		http:     notifiers.NewHTTP(env, token, "bot"+token),
	}, nil
}

// sendMessage is the body of a sendMessage call.
type sendMessage struct {
	ChatID             json.RawMessage `json:"chat_id"`
	Text               string          `json:"text"`
	ParseMode          string          `json:"parse_mode"`
	LinkPreviewOptions linkPreview     `json:"link_preview_options"`
	ReplyParameters    *replyTo        `json:"reply_parameters,omitempty"`
}

type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// replyTo is Bot API 7's form of reply_to_message_id: the follow-up is
// still sent when the first alert's message was deleted.
type replyTo struct {
	MessageID                int64 `json:"message_id"`
	AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
}

// answer is the Bot API's reply to every method.
type answer struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Result      struct {
		MessageID int64 `json:"message_id"`
	} `json:"result"`
	Parameters struct {
		RetryAfter      float64 `json:"retry_after"`
		MigrateToChatID int64   `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// Notify sends a to the chat of its target and returns the new message's
// id, which a follow-up replies to. Link previews are off, as one alert's
// preview can be larger than the alert.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	if err := checkChat(a.Channel); err != nil {
		return "", false, fmt.Errorf("telegram %q: %w", n.name, err)
	}
	msg := sendMessage{
		ChatID:             chatID(a.Channel),
		Text:               Text(a),
		ParseMode:          "HTML",
		LinkPreviewOptions: linkPreview{IsDisabled: true},
	}
	if parent, err := strconv.ParseInt(a.ParentRef, 10, 64); err == nil && parent > 0 {
		msg.ReplyParameters = &replyTo{MessageID: parent, AllowSendingWithoutReply: true}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return "", false, fmt.Errorf("telegram %q: encode: %w", n.name, err)
	}
	req := notifiers.JSON(n.endpoint, body)
	req.Explain = explain
	ans, retry, err := n.http.Send(ctx, req)
	if err != nil {
		return "", retry, fmt.Errorf("telegram %q: send to chat %s: %w", n.name, a.Channel, err)
	}
	var ok answer
	if json.Unmarshal(ans.Body, &ok) != nil || !ok.OK || ok.Result.MessageID == 0 {
		// Telegram took the message; without its id follow-ups go unthreaded.
		return "", false, nil
	}
	return strconv.FormatInt(ok.Result.MessageID, 10), false, nil
}

// chatID is a chat id as a JSON number, a @username as a string.
func chatID(chat string) json.RawMessage {
	if strings.HasPrefix(chat, "@") {
		b, _ := json.Marshal(chat)
		return b
	}
	return json.RawMessage(chat)
}

// explain reads Telegram's reason for a refusal and, for 429, the wait it
// asks for in parameters.retry_after.
func explain(a notifiers.Answer) (string, time.Duration) {
	var ans answer
	if json.Unmarshal(a.Body, &ans) != nil || ans.Description == "" {
		return "", 0
	}
	reason := ans.Description
	switch {
	case ans.Parameters.MigrateToChatID != 0:
		reason += fmt.Sprintf("; the group became a supergroup: use chat %d", ans.Parameters.MigrateToChatID)
	case a.Status == http.StatusUnauthorized:
		reason += "; check the bot token"
	case a.Status == http.StatusForbidden:
		reason += "; add the bot to the chat (as an admin of a channel)"
	case a.Status == http.StatusBadRequest && strings.Contains(ans.Description, "chat not found"):
		reason += "; check the chat id and that the bot is a member"
	}
	return reason, time.Duration(ans.Parameters.RetryAfter * float64(time.Second))
}

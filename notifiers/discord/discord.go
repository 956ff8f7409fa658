// Package discord sends alerts to Discord, at the end of the road: the
// dispatcher hands it one alert for one target and it posts one message. Type
// "discord" posts as a bot (target "NAME:CHANNEL_ID"); type "discord-webhook"
// posts through a webhook URL. Both render the alert as an embed (render.go),
// allow no mentions, keep every Discord limit, pace messages per channel and
// leave retrying to the dispatcher: discordgo's own retries are off, and a 429
// comes back with the wait Discord asked for.
package discord

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/notifiers"
)

// defaultTimeout bounds one HTTP exchange with Discord.
const defaultTimeout = 20 * time.Second

// httpClient returns a copy of env's client (or a default client) whose
// transport records each response for error reporting.
func httpClient(env notifiers.Env) *http.Client {
	c := &http.Client{Timeout: defaultTimeout}
	if env.HTTPClient != nil {
		cp := *env.HTTPClient
		c = &cp
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = recordingTransport{base: base}
	return c
}

// session returns a discordgo session for REST calls only: no retries of its
// own, no gateway.
func session(auth string, env notifiers.Env) *discordgo.Session {
	s, _ := discordgo.New(auth) // New never fails
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.Client = httpClient(env)
	return s
}

// noMentions lets the message mention no one: the empty list is sent as
// "parse":[] (a nil one would be null, which Discord reads as the default).
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Notifier posts alerts as a Discord bot.
type Notifier struct {
	name     string
	redactor *notifiers.Redactor
	logger   *slog.Logger
	session  *discordgo.Session
	now      func() time.Time
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns the notifier named name of a [[notifiers]] entry of type
// "discord". A non-empty api_url ("https://discord.com/api/v10/" or a bare
// root) points discordgo at that API for the whole process; a second
// notifier asking for a different one is an error.
func New(name string, c *Config, env notifiers.Env) (*Notifier, error) {
	token := strings.TrimSpace(c.Token.Reveal())
	if token == "" {
		return nil, fmt.Errorf("discord %q: token is empty", name)
	}
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	if c.APIURL != "" {
		if err := useAPIBase(c.APIURL); err != nil {
			return nil, fmt.Errorf("discord %q: %w", name, err)
		}
	}
	return &Notifier{
		name:     name,
		redactor: notifiers.NewRedactor(token, strings.TrimPrefix(token, "Bot ")),
		logger:   env.Log(),
		session:  session(token, env),
		now:      env.Clock(),
	}, nil
}

// Notify posts a as an embed to the channel a.Channel names. A follow-up (one
// with ParentRef) goes as a reply to that message, or at the top level when
// the message is gone. The reference it returns is the new message's id.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (string, bool, error) {
	if !isSnowflake(a.Channel) {
		return "", false, fmt.Errorf("discord %q: post to channel %q: not a Discord channel id (want NAME:CHANNEL_ID with the channel's number)", n.name, a.Channel)
	}
	op := fmt.Sprintf("discord %q: post to channel %s", n.name, a.Channel)
	msg := &discordgo.MessageSend{
		Embeds:          Embeds(a),
		AllowedMentions: noMentions(),
	}
	if a.ParentRef != "" {
		failIfNotExists := false
		msg.Reference = &discordgo.MessageReference{
			MessageID:       a.ParentRef,
			ChannelID:       a.Channel,
			FailIfNotExists: &failIfNotExists,
		}
	}
	if err := ctx.Err(); err != nil {
		return "", true, fmt.Errorf("%s: %w", op, err)
	}
	ex := &exchange{}
	m, err := n.session.ChannelMessageSendComplex(a.Channel, msg,
		discordgo.WithContext(withExchange(ctx, ex)),
		discordgo.WithRetryOnRatelimit(false),
		discordgo.WithRestRetries(0))
	if err != nil {
		if delivered(ex) {
			n.logger.Warn("discord accepted the message but its answer was unreadable; follow-ups will not thread under it",
				"target", a.Target, "status", ex.status)
			return "", false, nil
		}
		retry, err := sendError(op, false, err, ex, n.now(), n.redactor)
		return "", retry, err
	}
	return m.ID, false, nil
}

// delivered reports a 2xx answer: the message was posted even if discordgo
// could not read the reply, and sending again would post it twice.
func delivered(ex *exchange) bool {
	return ex.status >= 200 && ex.status < 300
}

// isSnowflake reports whether s looks like a Discord id: 1 to 20 digits.
func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

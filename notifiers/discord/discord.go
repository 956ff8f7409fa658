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

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notifiers"
)

// defaultTimeout bounds one HTTP exchange with Discord.
const defaultTimeout = 20 * time.Second

// Option changes how a notifier is built.
type Option func(*options)

type options struct {
	client  *http.Client
	now     func() time.Time
	wait    func(context.Context, time.Duration) error
	paceN   int
	pacePer time.Duration
}

// WithHTTPClient sends through c instead of a client with a 20-second timeout.
// c is copied, not changed.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.client = c }
}

// WithClock replaces the clock the pacer reads and the wait it uses; tests
// pass a fake so that pacing needs no real time.
func WithClock(now func() time.Time, wait func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.now, o.wait = now, wait }
}

// WithPace allows at most n messages per period to one channel (default 5
// per 5 s); n <= 0 turns pacing off.
func WithPace(n int, per time.Duration) Option {
	return func(o *options) { o.paceN, o.pacePer = n, per }
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now, wait: notifiers.Wait, paceN: paceN, pacePer: pacePer}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// httpClient returns a copy of o.client (or a default client) whose transport
// records each response for error reporting.
func (o options) httpClient() *http.Client {
	c := &http.Client{Timeout: defaultTimeout}
	if o.client != nil {
		cp := *o.client
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
func (o options) session(auth string) *discordgo.Session {
	s, _ := discordgo.New(auth) // New never fails
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.Client = o.httpClient()
	return s
}

// noMentions lets the message mention no one: the empty list is sent as
// "parse":[] (a nil one would be null, which Discord reads as the default).
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Notifier posts alerts as a Discord bot.
type Notifier struct {
	name    string
	token   string // "Bot …", only to scrub from errors
	logger  *slog.Logger
	session *discordgo.Session
	pacer   *pacer
	now     func() time.Time
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns a notifier for a [[notifiers]] entry of type "discord". A
// non-empty api_url ("https://discord.com/api/v10/" or a bare root) points
// discordgo at that API for the whole process; a second notifier asking for a
// different one is an error.
func New(cfg config.Notifier, logger *slog.Logger, opts ...Option) (*Notifier, error) {
	if cfg.Type != "discord" {
		return nil, fmt.Errorf("discord %q: type is %q, not \"discord\"", cfg.Name, cfg.Type)
	}
	token := strings.TrimSpace(cfg.Token.Reveal())
	if token == "" {
		return nil, fmt.Errorf("discord %q: token is empty", cfg.Name)
	}
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	if cfg.APIURL != "" {
		if err := useAPIBase(cfg.APIURL); err != nil {
			return nil, fmt.Errorf("discord %q: %w", cfg.Name, err)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := buildOptions(opts)
	return &Notifier{
		name:    cfg.Name,
		token:   token,
		logger:  logger,
		session: o.session(token),
		pacer:   newPacer(o.paceN, o.pacePer, o.now, o.wait),
		now:     o.now,
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
	if err := n.pacer.Wait(ctx, a.Channel); err != nil {
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
		retry, err := sendError(op, false, err, ex, n.now(), n.token, strings.TrimPrefix(n.token, "Bot "))
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

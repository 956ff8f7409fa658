// Package slack is the Slack notifier: type "slack" posts alerts with a bot
// token through the Web API (chat.postMessage), type "slack-webhook" through an
// incoming webhook. It renders an alert as Block Kit (see Blocks), resolves
// channel names, paces messages per channel and says whether a failed send is
// worth retrying; retrying itself is the dispatcher's stage.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
)

// DefaultAPIURL is the Slack Web API base used when api_url is not set.
const DefaultAPIURL = "https://slack.com/api/"

const (
	defaultChannelTTL = 10 * time.Minute // how long a channel list is trusted
	minRefresh        = 10 * time.Second // conversations.list is a Tier 2 method
)

var (
	_ notifiers.Notifier = (*Notifier)(nil)
	_ notifiers.Notifier = (*Webhook)(nil)
)

// Option adjusts a Notifier; the defaults suit production.
type Option func(*options)

type options struct {
	channelTTL time.Duration
	now        func() time.Time
}

// WithChannelTTL sets how long resolved channel names are trusted (default 10 minutes).
func WithChannelTTL(d time.Duration) Option {
	return func(o *options) { o.channelTTL = d }
}

// WithClock replaces the clock the channel cache reads, so that tests can
// let time pass without waiting.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Notifier posts alerts to Slack channels with a bot token.
type Notifier struct {
	name     string
	api      *slackgo.Client
	redactor *notifiers.Redactor
	logger   *slog.Logger
	channels *channelCache
}

// New builds the notifier named name of a [[notifiers]] entry of type
// "slack". It needs a token; api_url (default DefaultAPIURL) must be an http
// or https URL.
func New(name string, c *Config, env notifiers.Env, opts ...Option) (*Notifier, error) {
	token := c.Token.Reveal()
	if token == "" {
		return nil, fmt.Errorf("slack %q: token is empty", name)
	}
	apiURL, err := c.API()
	if err != nil {
		return nil, fmt.Errorf("slack %q: %w", name, err)
	}
	o := options{channelTTL: defaultChannelTTL, now: env.Clock()}
	for _, opt := range opts {
		opt(&o)
	}
	n := &Notifier{
		name:     name,
		api:      slackgo.New(token, slackgo.OptionAPIURL(apiURL), slackgo.OptionHTTPClient(env.Client())),
		redactor: notifiers.NewRedactor(token),
		logger:   env.Log(),
	}
	n.channels = &channelCache{ttl: o.channelTTL, now: o.now, list: n.listChannels}
	return n, nil
}

// Notify posts one alert to the channel of its target ("#name" or an id) and
// returns the message's ts, under which follow-ups thread.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (ref string, retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", true, n.errorf("send", err)
	}
	if missingStory(a) {
		return "", false, n.errorf("send", errors.New("alert has no story"))
	}
	channel, retry, err := n.resolve(ctx, a.Channel)
	if err != nil {
		return "", retry, err
	}

	blocks, fallback := Blocks(a)
	msg := []slackgo.MsgOption{
		slackgo.MsgOptionBlocks(blocks...),
		slackgo.MsgOptionText(fallback, false),
		slackgo.MsgOptionDisableLinkUnfurl(),
		slackgo.MsgOptionDisableMediaUnfurl(),
	}
	if a.ParentRef != "" {
		msg = append(msg, slackgo.MsgOptionTS(a.ParentRef))
	}
	_, ts, err := n.api.PostMessageContext(ctx, channel, msg...)
	if err != nil {
		retry, err = n.classify(ctx, "post to "+a.Channel, a.Channel, err)
		return "", retry, err
	}
	n.logger.DebugContext(ctx, "slack message posted", "target", a.Target, "channel", channel, "ts", ts)
	return ts, false, nil
}

// missingStory reports an alert about stories that carries none.
func missingStory(a *notifiers.Alert) bool {
	return a.Kind != store.KindHealth && a.Story == nil && len(a.Stories) == 0
}

// channelID matches a conversation id (public, private, direct).
var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)

// resolve turns a target's channel into a channel id.
func (n *Notifier) resolve(ctx context.Context, channel string) (id string, retry bool, err error) {
	channel = strings.TrimSpace(channel)
	if channel == "" {
		return "", false, n.errorf("send", errors.New("target has no channel (want NAME:#channel or NAME:C0123ABCD)"))
	}
	if channelID.MatchString(channel) {
		return channel, false, nil
	}
	name := strings.TrimPrefix(channel, "#")
	id, err = n.channels.lookup(ctx, name)
	if err != nil {
		return "", n.retryable(ctx, err), n.wrap("list channels", "#"+name, err)
	}
	if id == "" {
		return "", false, &hintError{msg: fmt.Sprintf("slack %q: channel #%s not found — invite the bot to it (/invite @wirewatch)", n.name, name)}
	}
	return id, false, nil
}

// listChannels reads every public and private channel the token can see.
func (n *Notifier) listChannels(ctx context.Context) (map[string]string, error) {
	ids := make(map[string]string)
	params := &slackgo.GetConversationsParameters{
		Types:           []string{"public_channel", "private_channel"},
		Limit:           1000,
		ExcludeArchived: true,
	}
	for {
		chans, next, err := n.api.GetConversationsContext(ctx, params)
		if err != nil {
			return nil, err
		}
		for _, c := range chans {
			ids[c.Name] = c.ID
		}
		if next == "" {
			return ids, nil
		}
		params.Cursor = next
	}
}

// errorf wraps err with the notifier's name and the operation, without the token.
func (n *Notifier) errorf(op string, err error) error {
	return n.redactor.Error(fmt.Errorf("slack %q: %s: %w", n.name, op, err))
}

// classify decides whether a failed API call is worth retrying and words its error.
func (n *Notifier) classify(ctx context.Context, op, channel string, err error) (bool, error) {
	return n.retryable(ctx, err), n.wrap(op, channel, err)
}

// retryable: rate limits, 429, 5xx, Slack's transient errors and network
// trouble are worth a retry; Slack's other API errors are not.
func (n *Notifier) retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	if _, ok := errors.AsType[*slackgo.RateLimitedError](err); ok {
		return true
	}
	if sc, ok := errors.AsType[slackgo.StatusCodeError](err); ok {
		return notifiers.RetryStatus(sc.Code)
	}
	if se, ok := errors.AsType[slackgo.SlackErrorResponse](err); ok {
		return transientCodes[se.Err]
	}
	return true // network errors, unreadable replies
}

// transientCodes are Slack API error codes that trying again can fix.
var transientCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"timeout":             true,
}

// wrap words an API error for people, keeping what callers test for
// (*notifiers.RetryAfterError, slack-go's error values) in the chain.
func (n *Notifier) wrap(op, channel string, err error) error {
	if rl, ok := errors.AsType[*slackgo.RateLimitedError](err); ok {
		return n.errorf(op, &notifiers.RetryAfterError{After: rl.RetryAfter, Err: rateLimited{rl}})
	}
	if se, ok := errors.AsType[slackgo.SlackErrorResponse](err); ok {
		if hint := hints[se.Err]; hint != "" {
			msg := fmt.Sprintf("slack %q: %s (%s)", n.name, strings.ReplaceAll(hint, "CHANNEL", channel), se.Err)
			return n.redactor.Error(&hintError{msg: msg, err: se})
		}
	}
	return n.errorf(op, err)
}

// hints explain the Slack API errors that need a person to act.
var hints = map[string]string{
	"channel_not_found":       "channel CHANNEL not found — invite the bot to it (/invite @wirewatch)",
	"not_in_channel":          "the bot is not in channel CHANNEL — invite it (/invite @wirewatch)",
	"is_archived":             "channel CHANNEL is archived",
	"restricted_action":       "the workspace does not let the bot post in channel CHANNEL",
	"cannot_reply_to_message": "the parent message in channel CHANNEL cannot take thread replies",
	"invalid_auth":            "the bot token is not valid",
	"not_authed":              "no bot token was sent",
	"account_inactive":        "the bot token belongs to a deactivated user or workspace",
	"token_revoked":           "the bot token was revoked",
	"missing_scope":           "the bot token lacks a scope (chat:write, channels:read, groups:read)",
	"msg_too_long":            "Slack found the message too long",
	"invalid_blocks":          "Slack rejected the message blocks",
}

// hintError is an error with a readable explanation of what to do.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// rateLimited words slack-go's rate-limit error without repeating the wait
// that *notifiers.RetryAfterError adds.
type rateLimited struct{ err *slackgo.RateLimitedError }

func (e rateLimited) Error() string { return "rate limited (HTTP 429)" }
func (e rateLimited) Unwrap() error { return e.err }

// channelCache maps channel names to ids. A name it does not know makes it
// list the channels again, at most once per lookup and once per minRefresh.
type channelCache struct {
	ttl  time.Duration
	now  func() time.Time
	list func(context.Context) (map[string]string, error)

	refresh sync.Mutex // one listing at a time
	mu      sync.Mutex
	ids     map[string]string
	fetched time.Time
}

func (c *channelCache) lookup(ctx context.Context, name string) (string, error) {
	asked := c.now()
	if id, fresh := c.get(name, asked); id != "" && fresh {
		return id, nil
	}
	c.refresh.Lock()
	defer c.refresh.Unlock()
	id, fresh := c.get(name, asked)
	c.mu.Lock()
	fetched := c.fetched
	c.mu.Unlock()
	switch {
	case id != "" && fresh:
		return id, nil
	case !fetched.IsZero() && !fetched.Before(asked):
		return id, nil // another caller listed while this one waited
	case id == "" && !fetched.IsZero() && c.now().Sub(fetched) < minRefresh:
		return "", nil // listed moments ago: the name is unknown
	}
	ids, err := c.list(ctx)
	if err != nil {
		if id != "" {
			return id, nil // a stale answer beats none
		}
		return "", err
	}
	c.mu.Lock()
	c.ids, c.fetched = ids, c.now()
	c.mu.Unlock()
	return ids[name], nil
}

// get returns the cached id of name and whether the cache is within its TTL.
func (c *channelCache) get(name string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[name], !c.fetched.IsZero() && now.Sub(c.fetched) < c.ttl
}

// Package slack connects the chat commands (/news, /watch, /sources) of
// bot/commands to Slack. It receives slash commands over Socket Mode (an
// outgoing websocket, no public URL needed) or over HTTP (POST
// /slack/commands, signature checked), turns each into a commands.Request,
// decides who is an admin from the notifier's admins list, and renders the
// Handler's Reply as Block Kit with every untrusted text escaped. Replies go
// back in the acknowledgement when they are ready within Slack's 3 seconds and
// through the command's response_url otherwise.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/wirewatch/wirewatch/bot/commands"
	slacknotify "github.com/wirewatch/wirewatch/notifiers/slack"
)

// CommandsPath is where HTTPHandler is meant to be served on [http].listen,
// and the Request URL path to give Slack in HTTP mode.
const CommandsPath = "/slack/commands"

// ErrNotConfigured is returned by New for a notifier that has neither an
// app_token (Socket Mode) nor a signing_secret (HTTP mode): it cannot receive
// commands, so the caller should not start an adapter for it.
var ErrNotConfigured = errors.New("neither app_token (Socket Mode) nor signing_secret (HTTP mode) is set")

const (
	defaultTimeout = 10 * time.Second // every HTTP call: apps.connections.open, response_url
	defaultAckWait = 2 * time.Second  // how long a fast command may take before "working on it"
	handleTimeout  = 5 * time.Minute  // the most one command may run; response_url lives 30 minutes
	retryDelay     = time.Second      // before the one retry of a response_url post
)

// Option adjusts an Adapter; the defaults suit production.
type Option func(*Adapter)

// WithHTTPClient makes the adapter call Slack (apps.connections.open and
// response_url posts) through c instead of a client with a 10 s timeout. c
// should have a timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(a *Adapter) { a.client = c }
}

// Rememberer is the part of the store that refuses a replayed command in
// every replica: it reports whether a key is new.
type Rememberer interface {
	Remember(ctx context.Context, key string, until time.Time) (bool, error)
}

// WithRemember makes the adapter act on each command once across replicas:
// an HTTP command whose (timestamp, signature) pair was seen, or a Socket
// Mode command whose envelope id was, is acknowledged and not acted on. Without it
// the adapter remembers in memory only.
func WithRemember(r Rememberer) Option {
	return func(a *Adapter) { a.remember = r }
}

// replayWindow is how long a command is remembered: past it, its signature's
// timestamp is too old to pass anyway (5 minutes), with room for clock skew.
const replayWindow = 10 * time.Minute

// Adapter serves the chat commands of one Slack notifier. It is safe for
// concurrent use; Run is called at most once at a time.
type Adapter struct {
	name          string
	botToken      string
	appToken      string
	signingSecret string
	apiURL        string
	apiOrigin     string // scheme://host of apiURL; response_urls there are trusted too
	admins        map[string]bool
	handler       commands.Handler
	logger        *slog.Logger
	client        *http.Client

	ackWait    time.Duration
	retryDelay time.Duration

	http *workers // replies to HTTP-mode commands still being worked on

	remember Rememberer // nil: memory
	seen     memorySeen
}

// New builds the adapter for the [[notifiers]] entry named name, of type
// "slack". It needs
// app_token (an "xapp-" app-level token, for Socket Mode) or signing_secret
// (for HTTP mode), or both; without either it returns an error wrapping
// ErrNotConfigured. logger is used as given: the caller narrows it to the
// notifier. Call Close when done.
func New(name string, cfg *slacknotify.Config, h commands.Handler, logger *slog.Logger, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, fmt.Errorf("slack commands %q: no command handler", name)
	}
	appToken := cfg.AppToken.Reveal()
	secret := cfg.SigningSecret.Reveal()
	if appToken == "" && secret == "" {
		return nil, fmt.Errorf("slack commands %q: %w", name, ErrNotConfigured)
	}
	if appToken != "" && !strings.HasPrefix(appToken, "xapp-") {
		return nil, fmt.Errorf("slack commands %q: app_token is not an app-level token (it should start with \"xapp-\")", name)
	}
	apiURL, err := cfg.API()
	if err != nil {
		return nil, fmt.Errorf("slack commands %q: %w", name, err)
	}
	u, _ := url.Parse(apiURL) // API checked it
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		name:          name,
		botToken:      cfg.Token.Reveal(),
		appToken:      appToken,
		signingSecret: secret,
		apiURL:        apiURL,
		apiOrigin:     u.Scheme + "://" + u.Host,
		admins:        make(map[string]bool, len(cfg.Admins)),
		handler:       h,
		logger:        logger,
		ackWait:       defaultAckWait,
		retryDelay:    retryDelay,
		http:          newWorkers(context.Background()),
	}
	for _, id := range cfg.Admins {
		if id = strings.TrimSpace(id); id != "" {
			a.admins[id] = true
		}
	}
	for _, opt := range opts {
		opt(a)
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: defaultTimeout}
	}
	if a.remember == nil {
		a.remember = &a.seen
	}
	return a, nil
}

// first reports whether key is new to every replica; a store error is
// returned, and the command must then be refused, not acted on twice.
func (a *Adapter) first(ctx context.Context, key string) (bool, error) {
	return a.remember.Remember(ctx, "slack:"+a.name+":"+key, time.Now().Add(replayWindow))
}

// memorySeen remembers keys in this process, for adapters without a store.
type memorySeen struct {
	mu   sync.Mutex
	keys map[string]time.Time
}

// Remember reports whether key is new, keeping it until until.
func (m *memorySeen) Remember(_ context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if m.keys == nil {
		m.keys = map[string]time.Time{}
	}
	if u, ok := m.keys[key]; ok && now.Before(u) {
		return false, nil
	}
	if len(m.keys) >= 4096 {
		for k, u := range m.keys {
			if !now.Before(u) {
				delete(m.keys, k)
			}
		}
	}
	m.keys[key] = until
	return true, nil
}

// Close cancels the replies to HTTP-mode commands still being worked on and
// waits for them to return. Call it after the HTTP server has shut down; later
// HTTP commands are answered with "shutting down". It is safe to call twice.
func (a *Adapter) Close() error {
	a.http.close()
	return nil
}

// Run connects over Socket Mode when the notifier has an app_token and serves
// commands until ctx ends, reconnecting whenever the socket drops. On return,
// replies still being worked on have been cancelled and have finished. It
// returns nil when ctx ends and at once without an app_token (HTTP mode only);
// otherwise an error only when Slack refuses the app token.
func (a *Adapter) Run(ctx context.Context) error {
	if a.appToken == "" {
		return nil
	}
	api := slackgo.New(a.botToken,
		slackgo.OptionAPIURL(a.apiURL),
		slackgo.OptionAppLevelToken(a.appToken),
		slackgo.OptionHTTPClient(a.client))
	smc := socketmode.New(api)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	work := newWorkers(runCtx)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		a.serveEvents(runCtx, smc, work)
	}()

	err := smc.RunContext(runCtx)
	stop()
	<-loopDone
	work.close()

	if ctx.Err() != nil {
		a.logger.Info("slack socket mode stopped")
		return nil
	}
	return a.errorf("socket mode", err)
}

// serveEvents reads the Socket Mode client's events until ctx ends. Each slash
// command is answered in a tracked goroutine, so a slow one delays no other.
func (a *Adapter) serveEvents(ctx context.Context, smc *socketmode.Client, work *workers) {
	for {
		var evt socketmode.Event
		select {
		case <-ctx.Done():
			return
		case evt = <-smc.Events:
		}
		switch evt.Type {
		case socketmode.EventTypeConnecting:
			a.logger.Debug("slack socket mode connecting")
		case socketmode.EventTypeConnected:
			if c, ok := evt.Data.(*socketmode.ConnectedEvent); ok && c.ConnectionCount > 0 {
				a.logger.Info("slack socket mode reconnected", "connection", c.ConnectionCount+1)
			} else {
				a.logger.Info("slack socket mode connected")
			}
		case socketmode.EventTypeConnectionError:
			if e, ok := evt.Data.(*slackgo.ConnectionErrorEvent); ok {
				a.logger.Warn("slack socket mode connection failed", "attempt", e.Attempt, "retry_in", e.Backoff,
					"error", a.scrub(stripURL(e.ErrorObj).Error()))
			}
		case socketmode.EventTypeInvalidAuth:
			a.logger.Error("slack socket mode: the app token was refused")
		case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
			a.logger.Warn("slack socket mode: bad frame or failed write", "event", string(evt.Type))
		case socketmode.EventTypeSlashCommand:
			cmd, ok := evt.Data.(slackgo.SlashCommand)
			if !ok || evt.Request == nil {
				continue
			}
			env := *evt.Request
			// Slack sends an envelope again, with the same id, when it saw
			// no ack in time, on this socket or another.
			if fresh, err := a.first(ctx, "envelope:"+env.EnvelopeID); err != nil || !fresh {
				// A retry of an envelope, or the same command on a second
				// socket: acknowledged, so that Slack stops, and not acted on.
				if err != nil {
					a.logger.Error("slack command dropped: the replay check failed", "err", err)
				} else {
					a.logger.Info("slack command already handled; ignoring the repeat", "envelope", env.EnvelopeID)
				}
				a.ack(ctx, smc, env.EnvelopeID, nil)
				continue
			}
			if !work.Go(func(wctx context.Context) { a.serveSocketCommand(wctx, smc, work, env, cmd) }) {
				return
			}
		case socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
			// Not used; acknowledged so that Slack does not send them again.
			if evt.Request != nil {
				if err := smc.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
					a.logger.Warn("slack socket mode: ack failed", "error", err)
				}
			}
		}
	}
}

// serveSocketCommand answers one slash command that came over Socket Mode:
// the reply rides on the ack when it is ready in time and small enough;
// otherwise the ack says "working on it" (or nothing) and the reply follows
// through response_url.
func (a *Adapter) serveSocketCommand(ctx context.Context, smc *socketmode.Client, work *workers, env socketmode.Request, cmd slackgo.SlashCommand) {
	req, known := a.request(cmd)
	if !known {
		a.ack(ctx, smc, env.EnvelopeID, render(helpReply(cmd.Command)))
		return
	}
	wait := a.ackWait
	if commands.Slow(req) {
		wait = 0
	}
	reply, inTime, sent := a.answer(ctx, work, req, cmd.ResponseURL, wait)
	defer sent()
	if !inTime {
		a.ack(ctx, smc, env.EnvelopeID, workingMessage)
		return
	}
	msg := render(reply)
	if fitsAck(env.EnvelopeID, msg) {
		a.ack(ctx, smc, env.EnvelopeID, msg)
		return
	}
	a.ack(ctx, smc, env.EnvelopeID, nil)
	if !work.Go(func(wctx context.Context) { a.post(wctx, cmd.ResponseURL, msg) }) {
		a.logger.Warn("slack reply dropped: shutting down", "command", req.Command)
	}
}

// ack acknowledges an envelope; payload nil sends a bare ack.
func (a *Adapter) ack(ctx context.Context, smc *socketmode.Client, envelopeID string, payload any) {
	if err := smc.AckCtx(ctx, envelopeID, payload); err != nil {
		a.logger.Warn("slack socket mode: ack failed", "error", err)
	}
}

// errorf words an error of operation op, with no secret in it.
func (a *Adapter) errorf(op string, err error) error {
	err = fmt.Errorf("slack commands %q: %s: %w", a.name, op, stripURL(err))
	if msg := err.Error(); a.scrub(msg) != msg {
		return errors.New(a.scrub(msg))
	}
	return err
}

// scrub removes the tokens and the signing secret from s, a last line of
// defence: no message is expected to contain one.
func (a *Adapter) scrub(s string) string {
	for _, sec := range []string{a.botToken, a.appToken, a.signingSecret} {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// stripURL drops the URL that net/http puts in its errors: a response_url or
// websocket URL carries a credential of its own.
func stripURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// Package discord is the Discord adapter for the chat commands, beside the
// road rather than on it: it turns Discord interactions (/news, /watch,
// /sources) into platform-neutral commands.Requests, lets a commands.Handler
// answer them, and renders each commands.Reply as an ephemeral interaction
// response, escaped and mentioning no one. Interactions arrive over the
// gateway (a discordgo session) or, when the notifier has a public_key, over
// the signed HTTP endpoint POST /discord/interactions as well. Work that may
// take longer than Discord's 3 seconds is acknowledged first and the reply
// edited in afterwards, from goroutines that Run waits for at shutdown.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/wirewatch/wirewatch/bot/commands"
	ndiscord "github.com/wirewatch/wirewatch/notifiers/discord"
)

// InteractionsPath is where HTTPHandler is meant to be served on
// [http].listen, and the path of the Interactions Endpoint URL to give
// Discord in HTTP mode.
const InteractionsPath = "/discord/interactions"

// Defaults for the timings options may change.
const (
	// defaultDeferAfter is how long a fast command may run before the adapter
	// acknowledges it anyway, well inside Discord's 3 seconds.
	defaultDeferAfter = 2 * time.Second
	// defaultDrainTimeout bounds how long Run waits at shutdown for commands
	// in flight before it cancels them.
	defaultDrainTimeout = 10 * time.Second
	// workTimeout bounds one command's work; Discord keeps an interaction's
	// token for 15 minutes.
	workTimeout = 2 * time.Minute
	// completeTimeout bounds an autocomplete lookup: its answer is due
	// within 3 seconds and cannot be deferred.
	completeTimeout = 2500 * time.Millisecond
	// restTimeout bounds one HTTP exchange with Discord.
	restTimeout = 20 * time.Second
)

// Option changes how an Adapter is built.
type Option func(*options)

type options struct {
	now          func() time.Time
	deferAfter   time.Duration
	drainTimeout time.Duration
	client       *http.Client

	leases     Leases
	owner      string
	leaseTTL   time.Duration
	remember   Rememberer
	firstRetry time.Duration
	maxRetry   time.Duration
}

// WithClock replaces the clock the HTTP endpoint checks signature timestamps
// against.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithDeferAfter sets how long a command that is expected to be fast may run
// before the adapter defers its reply (default 2 s; Discord allows 3).
func WithDeferAfter(d time.Duration) Option {
	return func(o *options) { o.deferAfter = d }
}

// WithDrainTimeout sets how long Run waits at shutdown for commands in flight
// before cancelling their context (default 10 s).
func WithDrainTimeout(d time.Duration) Option {
	return func(o *options) { o.drainTimeout = d }
}

// WithHTTPClient makes REST calls through a copy of c instead of a client
// with a 20-second timeout and a transport of its own.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.client = c }
}

// Adapter serves wirewatch's slash commands for one Discord application.
type Adapter struct {
	name      string
	appID     string
	guildID   string
	token     string // "Bot …", kept only to scrub it from messages
	publicKey ed25519.PublicKey
	handler   commands.Handler
	logger    *slog.Logger
	session   *discordgo.Session
	client    *http.Client
	now       func() time.Time

	deferAfter   time.Duration
	drainTimeout time.Duration

	// leases, when set, give the gateway to one replica at a time.
	leases   Leases
	owner    string
	leaseTTL time.Duration
	// remember, when set, refuses replayed HTTP interactions across
	// replicas.
	remember   Rememberer
	firstRetry time.Duration
	maxRetry   time.Duration

	// work is the parent of every command's context: detached from Run's
	// context so that shutdown lets commands finish, cancelled when the
	// drain times out.
	work       context.Context
	cancelWork context.CancelFunc

	mu       sync.Mutex
	started  bool
	closing  bool           // no new work is taken
	inflight sync.WaitGroup // every goroutine the adapter starts

	replays replayGuard
}

// New returns an adapter for the [[notifiers]] entry named name, of type
// "discord": token
// and application_id are required, guild_id makes command registration
// instant in that one guild, and public_key (the application's Ed25519 key,
// 64 hex digits) turns on the HTTP endpoint. api_url is not applied here: the
// discord notifier built from the same entry (notifiers/discord.New) points
// discordgo's process-wide endpoints at it, and this adapter's session
// follows.
func New(name string, cfg *ndiscord.Config, h commands.Handler, logger *slog.Logger, opts ...Option) (*Adapter, error) {
	if h == nil {
		return nil, fmt.Errorf("discord commands %q: no command handler", name)
	}
	token := strings.TrimSpace(cfg.Token.Reveal())
	if token == "" {
		return nil, fmt.Errorf("discord commands %q: token is empty", name)
	}
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	if !isSnowflake(cfg.ApplicationID) {
		return nil, fmt.Errorf("discord commands %q: application_id %q is not a Discord id", name, cfg.ApplicationID)
	}
	if cfg.GuildID != "" && !isSnowflake(cfg.GuildID) {
		return nil, fmt.Errorf("discord commands %q: guild_id %q is not a Discord id", name, cfg.GuildID)
	}
	var key ed25519.PublicKey
	if pk := strings.TrimSpace(cfg.PublicKey.Reveal()); pk != "" {
		b, err := hex.DecodeString(pk)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("discord commands %q: public_key must be 64 hexadecimal characters (the application's Ed25519 public key)", name)
		}
		key = ed25519.PublicKey(b)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := options{now: time.Now, deferAfter: defaultDeferAfter, drainTimeout: defaultDrainTimeout,
		firstRetry: firstRetry, maxRetry: maxRetry}
	for _, opt := range opts {
		opt(&o)
	}
	if o.leaseTTL <= 0 {
		o.leaseTTL = DefaultGatewayLease
	}
	if o.firstRetry <= 0 {
		o.firstRetry = firstRetry
	}
	o.maxRetry = max(o.maxRetry, o.firstRetry)

	client := &http.Client{Timeout: restTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if o.client != nil {
		cp := *o.client
		client = &cp
	}
	session, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discord commands %q: %w", name, err)
	}
	session.Client = client
	session.MaxRestRetries = 1
	session.StateEnabled = false
	// Handlers run on the gateway's reading goroutine, which only hands each
	// interaction to a goroutine the adapter tracks: discordgo starts none of
	// its own for them.
	session.SyncEvents = true
	session.Identify.Intents = discordgo.IntentsGuilds

	work, cancel := context.WithCancel(context.Background())
	return &Adapter{
		name:         name,
		appID:        cfg.ApplicationID,
		guildID:      cfg.GuildID,
		token:        token,
		publicKey:    key,
		handler:      h,
		logger:       logger,
		session:      session,
		client:       client,
		now:          o.now,
		deferAfter:   o.deferAfter,
		drainTimeout: o.drainTimeout,
		leases:       o.leases,
		owner:        o.owner,
		leaseTTL:     o.leaseTTL,
		remember:     o.remember,
		firstRetry:   o.firstRetry,
		maxRetry:     o.maxRetry,
		work:         work,
		cancelWork:   cancel,
	}, nil
}

// Run serves interactions until ctx ends. It registers the commands (a bulk
// overwrite of the guild's commands when guild_id is set, else of the global
// ones, so renamed and removed commands disappear) and opens the gateway,
// each retried with backoff until it works: a failure at start disables
// nothing for good, and the HTTP endpoint answers from the start, whatever
// the registration and the gateway do. With WithGatewayLease the gateway is
// open only in the replica that holds the lease. When ctx ends it closes the
// gateway, lets commands in flight finish (cancelling them after the drain
// timeout), and returns nil. Run may be called once.
func (a *Adapter) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.started {
		a.mu.Unlock()
		return fmt.Errorf("discord commands %q: already running", a.name)
	}
	a.started = true
	a.mu.Unlock()
	defer a.shutdown()

	remove := a.session.AddHandler(a.onInteraction)
	defer remove()
	var wg sync.WaitGroup
	wg.Go(func() { a.keepTrying(ctx, "register commands", a.register) })
	wg.Go(func() { a.runGateway(ctx) })
	a.logger.Info("discord commands starting", "http_endpoint", a.publicKey != nil, "gateway_lease", a.leases != nil)
	wg.Wait()
	return nil
}

// Close stops taking work, cancels the commands still in flight and waits
// for them; the HTTP endpoint answers 503 from then on. Run does the same
// when ctx ends (after a drain), so Close matters for an adapter whose Run
// never started or has not returned. It is safe to call twice, and without
// Run.
func (a *Adapter) Close() error {
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	a.cancelWork()
	a.inflight.Wait()
	a.client.CloseIdleConnections()
	return nil
}

// register overwrites the application's commands with Definitions.
func (a *Adapter) register(ctx context.Context) error {
	scope := "global"
	if a.guildID != "" {
		scope = "guild " + a.guildID
	}
	cmds, err := a.session.ApplicationCommandBulkOverwrite(a.appID, a.guildID, Definitions(), discordgo.WithContext(ctx))
	if err != nil {
		msg := a.describe(err)
		if h := hint(err); h != "" {
			msg += "; " + h
		}
		return fmt.Errorf("discord commands %q: register commands (%s): %s", a.name, scope, msg)
	}
	a.logger.Info("discord commands registered", "scope", scope, "commands", len(cmds))
	return nil
}

// shutdown stops taking work, waits for what is in flight, cancelling it
// after the drain timeout, and closes idle connections.
func (a *Adapter) shutdown() {
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()

	drained := make(chan struct{})
	go func() {
		a.inflight.Wait()
		close(drained)
	}()
	timer := time.NewTimer(a.drainTimeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
		a.logger.Warn("discord commands still running at shutdown: cancelling them")
		a.cancelWork()
		<-drained
	}
	a.cancelWork()
	a.client.CloseIdleConnections()
}

// enter counts one piece of work in; false once shutdown began. Goroutines
// started while the count is above zero may use inflight.Go directly.
func (a *Adapter) enter() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		return false
	}
	a.inflight.Add(1)
	return true
}

// onInteraction receives the gateway's INTERACTION_CREATE events.
func (a *Adapter) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil || !a.enter() {
		return
	}
	i := ic.Interaction
	go func() {
		defer a.inflight.Done()
		first, then := a.answer(i)
		ctx, cancel := context.WithTimeout(a.work, restTimeout)
		// What InteractionRespond does, for any JSON body (see autocompleteResult).
		endpoint := discordgo.EndpointInteractionResponse(i.ID, i.Token)
		_, err := a.session.RequestWithBucketID(http.MethodPost, endpoint, first, endpoint, discordgo.WithContext(ctx))
		cancel()
		if err != nil {
			a.logger.Warn("discord interaction response failed", "interaction", i.ID, "err", a.describe(err, i.Token))
		}
		if then != nil {
			then(err == nil)
		}
	}()
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

package discord

import (
	"context"
	"errors"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// Leases is the part of the store that lets one replica at a time hold the
// gateway session: several gateway sessions of one bot would each receive
// every interaction and answer it twice.
type Leases interface {
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (store.Lease, error)
	ReleaseLease(ctx context.Context, name string, lease store.Lease) error
}

// Rememberer is the part of the store that refuses a replayed interaction in
// every replica: it reports whether a key is new.
type Rememberer interface {
	Remember(ctx context.Context, key string, until time.Time) (bool, error)
}

const (
	// DefaultGatewayLease is how long a replica's hold on the gateway lasts
	// without renewal; it renews at a third of it, and another replica
	// takes the gateway over once it lapses.
	DefaultGatewayLease = 30 * time.Second
	// Backoff between attempts to register the commands or open the
	// gateway: doubling from firstRetry up to maxRetry.
	firstRetry = time.Second
	maxRetry   = 5 * time.Minute
	// releaseTimeout bounds giving the lease up at shutdown.
	releaseTimeout = 5 * time.Second
)

// WithGatewayLease makes the adapter hold the gateway only while it holds the
// store's named lease "discord-gateway:APPLICATION_ID" as owner, renewing it,
// giving it up at shutdown, and taking it over when another replica's lapses
// (ttl 0: DefaultGatewayLease). Without it the adapter opens the gateway
// whenever it runs. HTTP interactions never wait for it.
func WithGatewayLease(l Leases, owner string, ttl time.Duration) Option {
	return func(o *options) { o.leases, o.owner, o.leaseTTL = l, owner, ttl }
}

// WithRemember makes the HTTP endpoint refuse an interaction any replica has
// served already, by its id, through r.
func WithRemember(r Rememberer) Option {
	return func(o *options) { o.remember = r }
}

// WithRetryBackoff sets the first wait between attempts to register the
// commands or open the gateway, and the longest (defaults 1s and 5m).
func WithRetryBackoff(first, longest time.Duration) Option {
	return func(o *options) { o.firstRetry, o.maxRetry = first, longest }
}

// keepTrying calls try until it succeeds or ctx ends, waiting between
// attempts with doubling backoff, and logs each failure.
func (a *Adapter) keepTrying(ctx context.Context, what string, try func(context.Context) error) bool {
	wait := a.firstRetry
	for attempt := 1; ; attempt++ {
		err := try(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		a.logger.Error("discord: "+what+" failed; trying again", "attempt", attempt, "retry_in", wait, "err", err)
		if !sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, a.maxRetry)
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runGateway keeps the gateway open while ctx lasts: at once without a
// lease, else whenever this replica holds the gateway lease.
func (a *Adapter) runGateway(ctx context.Context) {
	if a.leases == nil {
		if a.keepTrying(ctx, "open gateway", a.openGateway) {
			<-ctx.Done()
			a.closeGateway()
		}
		return
	}
	name := "discord-gateway:" + a.appID
	renew := a.leaseTTL / 3
	for ctx.Err() == nil {
		lease, err := a.leases.AcquireLease(ctx, name, a.owner, a.leaseTTL)
		if err != nil {
			if !errors.Is(err, store.ErrLeaseLost) && ctx.Err() == nil {
				a.logger.Warn("discord: taking the gateway lease failed", "err", err)
			}
			if !sleep(ctx, renew) {
				return
			}
			continue
		}
		a.logger.Info("discord: this replica holds the gateway", "token", lease.Token)
		a.holdGateway(ctx, name, lease, renew)
	}
}

// holdGateway opens the gateway under lease and keeps it open, renewing the
// lease, until ctx ends or the lease is lost or lapses; then it closes the
// gateway (and at shutdown gives the lease up).
func (a *Adapter) holdGateway(ctx context.Context, name string, lease store.Lease, renew time.Duration) {
	open := false
	wait := a.firstRetry
	renewed := time.Now()
	defer func() {
		if open {
			a.closeGateway()
		}
		if ctx.Err() != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			if err := a.leases.ReleaseLease(rctx, name, lease); err != nil {
				a.logger.Warn("discord: giving the gateway lease up failed", "err", err)
			}
		}
	}()
	for {
		next := renew
		if !open {
			if err := a.openGateway(ctx); err != nil {
				a.logger.Error("discord: open gateway failed; trying again", "retry_in", min(wait, renew), "err", err)
				next = min(wait, renew)
				wait = min(2*wait, a.maxRetry)
			} else {
				open = true
			}
		}
		if !sleep(ctx, next) {
			return
		}
		l, err := a.leases.AcquireLease(ctx, name, a.owner, a.leaseTTL)
		switch {
		case err == nil:
			lease, renewed = l, time.Now()
		case errors.Is(err, store.ErrLeaseLost):
			a.logger.Warn("discord: the gateway lease went to another replica; closing the gateway here")
			return
		case ctx.Err() != nil:
			return
		default:
			// The store did not answer: keep the gateway while the lease
			// surely holds, no longer.
			a.logger.Warn("discord: renewing the gateway lease failed", "err", err)
			if time.Since(renewed) > a.leaseTTL-renew {
				a.logger.Warn("discord: the gateway lease may have lapsed; closing the gateway here")
				return
			}
		}
	}
}

// openGateway opens the gateway session.
func (a *Adapter) openGateway(context.Context) error {
	a.session.Lock()
	a.session.ShouldReconnectOnError = true
	a.session.Unlock()
	if err := a.session.Open(); err != nil {
		return errors.New(a.describe(err))
	}
	a.logger.Info("discord gateway open")
	return nil
}

// closeGateway closes the gateway session. A heartbeat that fails on the
// connection Close is closing makes discordgo reconnect, reviving the
// session: reconnecting is turned off first. The heartbeat goroutine reads
// the flag after taking the session's lock, so setting it under that lock
// orders the two. (A reconnect loop already running, during an outage, is
// discordgo's and cannot be stopped; it ends when it connects.)
func (a *Adapter) closeGateway() {
	a.session.Lock()
	a.session.ShouldReconnectOnError = false
	a.session.Unlock()
	if err := a.session.Close(); err != nil {
		a.logger.Warn("discord gateway close failed", "err", a.describe(err))
	}
}

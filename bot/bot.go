// Package bot is wirewatch's runtime, the middle of the road: a bounded pool
// fetches the sources the store says are due (each claimed with a lease, so
// that every process sharing the store fetches a source once per slot), new
// stories and their clusters, matches and outbox rows go into the store in one
// transaction, and the dispatcher sends due rows through the notifiers, one
// target's queue at a time under a lease. Chat commands and the API change the
// store; the bot reads the change from it. They never call notifiers.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
)

// drainTimeout bounds how long in-flight fetches and sends may take after a
// shutdown request before they are cancelled.
const drainTimeout = 8 * time.Second

// Timing of the store-driven loops. Other processes change the store too, so
// every loop also looks again after idlePoll even when nothing told it to.
const (
	idlePoll = time.Second
	// rulesPoll is how often the rules' change counter is read: a rule
	// changed by another process is in force within it.
	rulesPoll = 2 * time.Second
	// reapEvery is how often the leases of stopped workers on this host
	// are looked for.
	reapEvery = 10 * time.Second
	// housekeeping is how often old stories are pruned and old cluster
	// fingerprints forgotten.
	housekeeping = time.Hour
	// DefaultFetchTimeout is the fetch timeout the source lease is sized for
	// when Options.FetchTimeout is not set.
	DefaultFetchTimeout = 30 * time.Second
	// DefaultInterval is the fetch interval of sources without their own
	// when Options.Interval is not set.
	DefaultInterval = 5 * time.Minute
)

// Options are the bot's dependencies and settings.
type Options struct {
	Store     store.Store
	Fetcher   *sources.Fetcher
	Notifiers map[string]notifiers.Notifier
	Rules     *RuleSet
	Metrics   *Metrics
	Logger    *slog.Logger
	// Owner names this process in the leases it takes (default: host, pid
	// and a random suffix).
	Owner string
	// Interval is the default fetch interval; Concurrency the fetches at once.
	Interval    time.Duration
	Concurrency int
	// PerHost caps the fetches of one host at once, across every process
	// that shares the store (0: no cap beyond the fetcher's own).
	PerHost int
	// FetchTimeout is the fetcher's timeout; a source's lease outlasts it
	// (0: DefaultFetchTimeout).
	FetchTimeout time.Duration
	// Retention is how long stories are kept (0: forever).
	Retention time.Duration
	// RetryBase is the wait before the first retry of a failed send
	// (0: DefaultRetryBase).
	RetryBase time.Duration
	// MaxRetryAfter caps a receiver's Retry-After (0: DefaultMaxRetryAfter).
	MaxRetryAfter time.Duration
	// Cluster tunes how the stories of one event are found; its Window is
	// always ClusterWindow.
	Cluster cluster.Options
	// Health says where feed-health alerts go.
	Health Health
	// MaxPerHour limits instant alerts per target, by notifier name
	// (missing: DefaultMaxPerHour).
	MaxPerHour map[string]int
	// Lease is how long the dispatcher's claim on a target's queue lasts
	// (0: DefaultLaneTTL).
	Lease time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Bot polls sources and delivers alerts. It keeps no schedule of its own:
// which source is due, and who fetches it, is claimed from the store, so any
// number of bots on one store share the work.
type Bot struct {
	opt        Options
	poller     *poller
	dispatcher *Dispatcher
	fetchTTL   time.Duration
	wake       chan struct{} // a source may have fallen due
}

// New returns a bot ready to Run or RunOnce.
func New(o Options) *Bot {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Owner == "" {
		o.Owner = NewOwner()
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	o.Concurrency = max(o.Concurrency, 1)
	b := &Bot{
		opt:      o,
		fetchTTL: 2*o.FetchTimeout + time.Minute,
		wake:     make(chan struct{}, 1),
	}
	b.poller = &poller{
		store: o.Store, fetcher: o.Fetcher, metrics: o.Metrics, logger: o.Logger, now: o.Now,
		planner:  planner{rules: o.Rules, judge: newJudge(o.Cluster), metrics: o.Metrics},
		guarded:  func(s store.Source) bool { return s.Origin != store.OriginConfig },
		health:   o.Health,
		interval: o.Interval,
	}
	b.dispatcher = NewDispatcher(DispatcherOptions{
		Store: o.Store, Notifiers: o.Notifiers, Metrics: o.Metrics, Logger: o.Logger, Now: o.Now,
		RetryBase: o.RetryBase, MaxPerHour: o.MaxPerHour, Owner: o.Owner, LaneTTL: o.Lease, MaxRetryAfter: o.MaxRetryAfter,
	})
	return b
}

// Dispatcher returns the bot's dispatcher.
func (b *Bot) Dispatcher() *Dispatcher { return b.dispatcher }

// Wake tells the bot that a source may have fallen due (it looks anyway
// within a second).
func (b *Bot) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run polls and delivers until ctx is done, then lets in-flight fetches and
// sends finish (for up to drainTimeout) and returns.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.opt.Rules.Reload(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing in flight
		}
		return err
	}
	b.opt.Metrics.Rules.Set(float64(b.opt.Rules.Len()))
	b.reapDeadOwners(ctx)
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var loops sync.WaitGroup
	loops.Go(func() { b.fetchLoop(ctx, work, time.Time{}) })
	loops.Go(func() { b.dispatcher.Run(ctx, work) })
	loops.Go(func() { b.digestLoop(ctx) })
	loops.Go(func() { b.watchLoop(ctx) })
	loops.Go(func() { b.housekeepingLoop(ctx, work) })

	<-ctx.Done()
	b.opt.Logger.Info("shutting down: finishing fetches and sends in flight")
	timeout := time.NewTimer(drainTimeout)
	defer timeout.Stop()
	finished := make(chan struct{})
	go func() {
		loops.Wait()
		// Alerts of fetches that finished during the drain go out too.
		b.dispatcher.Drain(work, 0)
		close(finished)
	}()
	select {
	case <-finished:
	case <-timeout.C:
		b.opt.Logger.Warn("drain timed out; cancelling what is left")
		cancelWork()
		<-finished
	}
	return nil
}

// RunOnce fetches every enabled source once, delivers what matched (waiting up
// to maxWait for retries), and returns. Rows still pending go out on the next run.
func (b *Bot) RunOnce(ctx context.Context, maxWait time.Duration) error {
	if err := b.opt.Rules.Reload(ctx); err != nil {
		return err
	}
	b.reapDeadOwners(ctx)
	start := b.opt.Now()
	if err := b.opt.Store.FetchAll(ctx); err != nil {
		return err
	}
	b.fetchLoop(ctx, ctx, start)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, err := b.SendDueDigests(ctx); err != nil {
		b.opt.Logger.Error("queueing digests failed", "err", err)
	}
	b.dispatcher.Drain(ctx, maxWait)
	return b.undelivered(ctx)
}

// fetchLoop claims due sources from the store and fetches them with a pool
// of Concurrency workers, until ctx is done. With once set (`run --once`) it
// claims only sources not fetched since once, and returns when none is due
// and no fetch is running. A fetch in progress runs on work, which outlives
// ctx while draining.
func (b *Bot) fetchLoop(ctx, work context.Context, once time.Time) {
	jobs := make(chan store.ClaimedSource)
	done := make(chan struct{}, b.opt.Concurrency)
	var workers sync.WaitGroup
	for range b.opt.Concurrency {
		workers.Go(func() {
			for c := range jobs {
				if b.poller.poll(work, c) {
					b.dispatcher.Kick()
				}
				done <- struct{}{}
			}
		})
	}
	defer func() {
		close(jobs)
		workers.Wait()
	}()
	free := b.opt.Concurrency
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		claimed, failed := 0, false
		if free > 0 {
			cs, err := b.opt.Store.ClaimSources(ctx, store.SourceClaim{
				Owner: b.opt.Owner, TTL: b.fetchTTL, Limit: free, PerHost: b.opt.PerHost, FetchedBefore: once,
			})
			if failed = err != nil; failed && ctx.Err() == nil {
				b.opt.Logger.Error("claiming due sources failed", "err", err)
			}
			for _, c := range cs {
				free--
				jobs <- c
			}
			claimed = len(cs)
		}
		wait := idlePoll
		if claimed == 0 && !failed {
			next, ok, err := b.opt.Store.NextSourceDue(ctx)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					b.opt.Logger.Error("reading the schedule failed", "err", err)
				}
			case !once.IsZero() && free == b.opt.Concurrency:
				return // every source fetched once, nothing running
			case ok && next.After(b.opt.Now()):
				wait = min(wait, next.Sub(b.opt.Now()))
			}
		} else if free > 0 && !failed {
			wait = 0 // more may be due
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-done:
			free++
		case <-b.wake:
		case <-timer.C:
		}
	}
}

// ErrUndelivered marks a run that could not deliver every alert.
var ErrUndelivered = errors.New("alerts not delivered")

// undelivered reports, after a --once run, the alerts that failed for good
// and those still pending for targets whose last send failed (they go out on
// the next run).
func (b *Bot) undelivered(ctx context.Context) error {
	failing, failed := b.dispatcher.Trouble()
	var problems []string
	if failed > 0 {
		problems = append(problems, fmt.Sprintf("%d failed for good (see the delivery log)", failed))
	}
	targets := slices.Sorted(maps.Keys(failing))
	for _, t := range targets {
		rows, err := b.opt.Store.Deliveries(ctx, store.DeliveryQuery{Target: t, Status: store.StatusPending, Limit: 100_000})
		if err != nil {
			return fmt.Errorf("read the outbox: %w", err)
		}
		if len(rows) > 0 {
			problems = append(problems, fmt.Sprintf("%d pending for %s after: %s", len(rows), t, failing[t]))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; pending ones are sent on the next run", ErrUndelivered, strings.Join(problems, "; "))
}

// digestInterval is how often the bot looks for digests whose period ended.
const digestInterval = 30 * time.Second

// digestLoop queues due digests now (those missed while the bot was down)
// and then every digestInterval, until ctx is done.
func (b *Bot) digestLoop(ctx context.Context) {
	t := time.NewTicker(digestInterval)
	defer t.Stop()
	for {
		n, err := b.SendDueDigests(ctx)
		if err != nil && ctx.Err() == nil {
			b.opt.Logger.Error("queueing digests failed", "err", err)
		}
		if n > 0 {
			b.dispatcher.Kick()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchLoop reloads the rules whenever the store says they changed, by
// this process or any other, takes over the work of stopped workers on this
// host, and passes on the wake-ups of a store that sends them, until ctx is
// done.
func (b *Bot) watchLoop(ctx context.Context) {
	rules := time.NewTicker(rulesPoll)
	defer rules.Stop()
	reap := time.NewTicker(reapEvery)
	defer reap.Stop()
	var wakeups <-chan string
	if w, ok := b.opt.Store.(store.Waker); ok {
		wakeups = w.Wakeups(ctx)
	}
	refresh := func() {
		if err := b.opt.Rules.Refresh(ctx); err != nil && ctx.Err() == nil {
			b.opt.Logger.Error("reloading the rules failed", "err", err)
		}
		b.opt.Metrics.Rules.Set(float64(b.opt.Rules.Len()))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-rules.C:
			refresh()
		case <-reap.C:
			b.reapDeadOwners(ctx)
		case topic, ok := <-wakeups:
			if !ok {
				wakeups = nil
				continue
			}
			// Another worker, here or in another replica, signalled work.
			switch topic {
			case store.TopicOutbox:
				b.dispatcher.Kick()
			case store.TopicSources:
				b.Wake()
			case store.TopicRules:
				refresh()
			}
		}
	}
}

// housekeepingLoop prunes old stories and forgets old cluster fingerprints
// now and every housekeeping period, until ctx is done.
func (b *Bot) housekeepingLoop(ctx, work context.Context) {
	t := time.NewTicker(housekeeping)
	defer t.Stop()
	for {
		b.tidy(work)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Bot) tidy(ctx context.Context) {
	now := b.opt.Now()
	if err := b.opt.Store.ForgetFingerprints(ctx, now.Add(-ClusterWindow)); err != nil && ctx.Err() == nil {
		b.opt.Logger.Error("forgetting old cluster fingerprints failed", "err", err)
	}
	if err := b.opt.Store.ForgetTerms(ctx, now.Add(-TermMemory)); err != nil && ctx.Err() == nil {
		b.opt.Logger.Error("forgetting quiet cluster terms failed", "err", err)
	}
	if b.opt.Retention <= 0 {
		return
	}
	n, err := b.opt.Store.Prune(ctx, now.Add(-b.opt.Retention))
	if err != nil {
		if ctx.Err() == nil {
			b.opt.Logger.Error("pruning old stories failed", "err", err)
		}
		return
	}
	if n > 0 {
		b.opt.Logger.Info("pruned old stories", "stories", n)
	}
}

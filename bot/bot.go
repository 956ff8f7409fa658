// Package bot is wirewatch's runtime, the middle of the road: a cron schedule
// marks sources due, a bounded pool fetches them, new stories and their matches
// go into the store with their outbox rows in one transaction, and the
// dispatcher sends due rows through the notifiers. Chat commands and the API
// change the store and ask the bot to reload; they never call notifiers.
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

	"github.com/robfig/cron/v3"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
)

// drainTimeout bounds how long in-flight fetches and sends may take after a
// shutdown request before they are cancelled.
const drainTimeout = 8 * time.Second

// Options are the bot's dependencies and settings.
type Options struct {
	Store     store.Store
	Fetcher   *sources.Fetcher
	Notifiers map[string]notifiers.Notifier
	Rules     *RuleSet
	Metrics   *Metrics
	Logger    *slog.Logger
	// Interval is the default fetch interval; Concurrency the fetches at once.
	Interval    time.Duration
	Concurrency int
	// Retention is how long stories are kept (0: forever).
	Retention time.Duration
	// RetryBase is the wait before the first retry of a failed send
	// (0: DefaultRetryBase).
	RetryBase time.Duration
	// Health says where feed-health alerts go.
	Health Health
	// MaxPerHour limits instant alerts per target, by notifier name
	// (missing: DefaultMaxPerHour).
	MaxPerHour map[string]int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Bot polls sources and delivers alerts.
type Bot struct {
	opt        Options
	poller     *poller
	dispatcher *Dispatcher
	clusters   *clusters

	queue   chan int64 // source ids due for a fetch
	mu      sync.Mutex
	pending map[int64]bool // queued or being fetched
	cron    *cron.Cron
	entries map[int64]cron.EntryID
}

// New returns a bot ready to Run or RunOnce.
func New(o Options) *Bot {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Concurrency = max(o.Concurrency, 1)
	b := &Bot{
		opt:     o,
		queue:   make(chan int64, 4096),
		pending: map[int64]bool{},
		entries: map[int64]cron.EntryID{},
	}
	b.clusters = newClusters(ClusterWindow)
	b.poller = &poller{
		store: o.Store, fetcher: o.Fetcher, metrics: o.Metrics, logger: o.Logger, now: o.Now,
		planner: planner{rules: o.Rules, clusters: b.clusters},
		guarded: func(s store.Source) bool { return s.Origin != store.OriginConfig },
		health:  o.Health,
	}
	b.dispatcher = NewDispatcher(o.Store, o.Notifiers, o.Metrics, o.Logger, o.Now, o.RetryBase)
	b.dispatcher.maxPerHour = o.MaxPerHour
	return b
}

// Dispatcher returns the bot's dispatcher.
func (b *Bot) Dispatcher() *Dispatcher { return b.dispatcher }

// Run polls and delivers until ctx is done, then stops the schedule, lets
// in-flight fetches and sends finish (for up to drainTimeout) and returns.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.prepare(ctx); err != nil {
		return err
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	b.mu.Lock()
	b.cron = cron.New(cron.WithLocation(time.UTC))
	b.mu.Unlock()
	if err := b.Reschedule(ctx); err != nil {
		return err
	}
	b.cron.Schedule(cron.Every(time.Hour), cron.FuncJob(func() { b.clusters.expire(b.opt.Now()) }))
	if b.opt.Retention > 0 {
		b.cron.Schedule(cron.Every(time.Hour), cron.FuncJob(func() { b.prune(work) }))
		b.prune(work)
	}
	b.cron.Start()

	var workers sync.WaitGroup
	for range b.opt.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			b.fetchLoop(ctx, work)
		}()
	}
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		b.dispatcher.Run(ctx, work)
	}()
	digested := make(chan struct{})
	go func() {
		defer close(digested)
		b.digestLoop(ctx)
	}()

	<-ctx.Done()
	b.opt.Logger.Info("shutting down: finishing fetches and sends in flight")
	cronDone := b.cron.Stop()
	timeout := time.NewTimer(drainTimeout)
	defer timeout.Stop()
	finished := make(chan struct{})
	go func() {
		<-cronDone.Done()
		workers.Wait()
		<-dispatched
		<-digested
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
	if err := b.prepare(ctx); err != nil {
		return err
	}
	srcs, err := b.opt.Store.Sources(ctx)
	if err != nil {
		return fmt.Errorf("list sources: %w", err)
	}
	jobs := make(chan store.Source)
	var wg sync.WaitGroup
	for range b.opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				b.poller.poll(ctx, s)
			}
		}()
	}
	for _, s := range srcs {
		if s.Paused {
			continue
		}
		select {
		case jobs <- s:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, err := b.SendDueDigests(ctx); err != nil {
		b.opt.Logger.Error("queueing digests failed", "err", err)
	}
	b.dispatcher.Drain(ctx, maxWait)
	return b.undelivered(ctx)
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

// prepare loads the rules and the recent story clusters.
func (b *Bot) prepare(ctx context.Context) error {
	if err := b.opt.Rules.Reload(ctx); err != nil {
		return err
	}
	return b.clusters.load(ctx, b.opt.Store, b.opt.Now())
}

// Reschedule brings the cron entries in line with the stored sources (after
// sources were added, removed or changed at run time) and queues the sources
// that are due now.
func (b *Bot) Reschedule(ctx context.Context) error {
	srcs, err := b.opt.Store.Sources(ctx)
	if err != nil {
		return fmt.Errorf("list sources: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cron == nil {
		return nil // not running (yet): Run schedules every source when it starts
	}
	for id, e := range b.entries {
		b.cron.Remove(e)
		delete(b.entries, id)
	}
	now := b.opt.Now()
	var errs []error
	for _, s := range srcs {
		if s.Paused {
			continue
		}
		sched, err := sourceSchedule(s, b.opt.Interval)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id := s.ID
		b.entries[id] = b.cron.Schedule(sched, cron.FuncJob(func() { b.Enqueue(id) }))
		if dueAtStart(s, sched, now) {
			b.enqueueLocked(id)
		}
	}
	return errors.Join(errs...)
}

// NextFetch returns when source id is next fetched: its next scheduled slot,
// or the end of its failure backoff when that is later (ok false: the source
// is not scheduled, or the bot is not running).
func (b *Bot) NextFetch(id int64, backoffUntil time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[id]
	if !ok || b.cron == nil {
		return time.Time{}, false
	}
	next := b.cron.Entry(e).Next
	if next.IsZero() {
		return time.Time{}, false
	}
	if backoffUntil.After(next) {
		next = backoffUntil
	}
	return next, true
}

// Enqueue asks for a fetch of source id soon (ignored if one is already queued
// or running).
func (b *Bot) Enqueue(id int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enqueueLocked(id)
}

func (b *Bot) enqueueLocked(id int64) {
	if b.pending[id] {
		return
	}
	select {
	case b.queue <- id:
		b.pending[id] = true
	default:
		b.opt.Logger.Warn("fetch queue full; skipping this round", "source_id", id)
	}
}

// fetchLoop is one worker of the fetch pool. It takes no new source once ctx
// is done; a fetch in progress runs on work, which outlives ctx while draining.
func (b *Bot) fetchLoop(ctx, work context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-b.queue:
			b.fetchOne(work, id)
			b.mu.Lock()
			delete(b.pending, id)
			b.mu.Unlock()
		}
	}
}

func (b *Bot) fetchOne(ctx context.Context, id int64) {
	src, err := b.opt.Store.Source(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			b.opt.Logger.Error("loading source failed", "source_id", id, "err", err)
		}
		return
	}
	if src.Paused || b.opt.Now().Before(src.State.NextFetch) {
		return // backing off after failures
	}
	if b.poller.poll(ctx, src) {
		b.dispatcher.Kick()
	}
}

func (b *Bot) prune(ctx context.Context) {
	n, err := b.opt.Store.Prune(ctx, b.opt.Now().Add(-b.opt.Retention))
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

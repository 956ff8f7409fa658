package bot

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/notifiers"
	"github.com/wirewatch/wirewatch/store"
)

// Delivery retry policy: exponential from DefaultRetryBase, capped at retryCap,
// for at most maxAttempts sends (about an hour and a half of trying in all).
const (
	// DefaultRetryBase is the wait before the first retry of a failed send.
	DefaultRetryBase = 2 * time.Second
	retryCap         = 10 * time.Minute
	maxAttempts      = 15
	dueBatch         = 500
	idlePoll         = time.Second

	// DefaultMaxPerHour is the number of instant alerts a target gets in an
	// hour before further ones are gathered into summaries.
	DefaultMaxPerHour = 30
	// SummaryEvery is the least time between two summaries to one target.
	SummaryEvery = 15 * time.Minute
)

// Dispatcher sends due outbox rows through their target's notifier. Rows of one
// target go out in order, one at a time (the notifier paces them); targets are
// served concurrently. A target that asks to wait (429, 5xx) is held until then,
// and the rest of its queue waits with it.
type Dispatcher struct {
	store     store.Store
	notifiers map[string]notifiers.Notifier
	metrics   *Metrics
	logger    *slog.Logger
	now       func() time.Time
	retryBase time.Duration

	kick chan struct{}
	wg   sync.WaitGroup

	// maxPerHour is the flood limit by notifier name (missing: DefaultMaxPerHour).
	maxPerHour map[string]int

	mu          sync.Mutex
	busy        map[string]bool      // targets with a sender running
	hold        map[string]time.Time // targets asked to wait until then
	nextSummary map[string]time.Time // targets' earliest next summary
	// done counts the senders that finished, per target. Rows read from the
	// store before a target's sender finished may be stale (sent since), so
	// dispatchDue drops them; the finished sender's kick reads them afresh.
	done map[string]uint64
	// failing holds, per target, the last send error not yet followed by a
	// successful send; failed counts deliveries that failed for good.
	failing map[string]string
	failed  int
}

// Trouble reports the targets whose last send failed (with the error) and
// how many deliveries failed for good, since the dispatcher was made.
func (d *Dispatcher) Trouble() (failing map[string]string, failed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.failing), d.failed
}

func (d *Dispatcher) noteSend(target string, err error, final bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case err == nil:
		delete(d.failing, target)
	case final:
		d.failed++
	default:
		d.failing[target] = err.Error()
	}
}

// NewDispatcher returns a dispatcher over st that sends through ns (by notifier
// name), retrying failed sends from retryBase (0: DefaultRetryBase).
func NewDispatcher(st store.Store, ns map[string]notifiers.Notifier, m *Metrics, logger *slog.Logger, now func() time.Time, retryBase time.Duration) *Dispatcher {
	if retryBase <= 0 {
		retryBase = DefaultRetryBase
	}
	return &Dispatcher{
		store: st, notifiers: ns, metrics: m, logger: logger, now: now, retryBase: retryBase,
		kick: make(chan struct{}, 1),
		busy: map[string]bool{}, hold: map[string]time.Time{}, nextSummary: map[string]time.Time{},
		done: map[string]uint64{}, failing: map[string]string{},
	}
}

// Kick tells the dispatcher that new rows may be due.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx is done, then waits for the sends in flight. Sends
// use sendCtx, which the caller cancels only when draining takes too long.
func (d *Dispatcher) Run(ctx, sendCtx context.Context) {
	defer d.wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-timer.C:
		}
		d.dispatchDue(sendCtx)
		timer.Reset(idlePoll)
	}
}

// Drain sends everything that is due and waits for it; it keeps waiting for
// retries due within maxWait of now, then returns (for `run --once`).
func (d *Dispatcher) Drain(ctx context.Context, maxWait time.Duration) {
	deadline := d.now().Add(maxWait)
	for ctx.Err() == nil {
		d.dispatchDue(ctx)
		d.wg.Wait()
		next, ok, err := d.store.NextDue(ctx)
		if err != nil || !ok || next.After(deadline) {
			if err != nil {
				d.logger.Error("reading the outbox failed", "err", err)
			}
			return
		}
		if wait := next.Sub(d.now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// dispatchDue starts a sender for every target that has due rows and is
// neither busy nor held.
func (d *Dispatcher) dispatchDue(ctx context.Context) {
	d.mu.Lock()
	before := maps.Clone(d.done)
	d.mu.Unlock()
	now := d.now()
	rows, err := d.store.Due(ctx, now, dueBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.logger.Error("reading the outbox failed", "err", err)
		}
		return
	}
	groups := map[string][]store.Delivery{}
	var order []string
	d.mu.Lock()
	for _, r := range rows {
		if d.busy[r.Target] || now.Before(d.hold[r.Target]) || d.done[r.Target] != before[r.Target] {
			continue
		}
		if _, seen := groups[r.Target]; !seen {
			order = append(order, r.Target)
		}
		groups[r.Target] = append(groups[r.Target], r)
	}
	for _, t := range order {
		d.busy[t] = true
		delete(d.hold, t)
	}
	d.mu.Unlock()
	for _, t := range order {
		d.wg.Add(1)
		go d.sendAll(ctx, t, groups[t])
	}
}

// sendAll sends one target's rows in order. Instant alerts beyond the
// target's hourly limit are held back and sent together as one summary; when
// the target asks to wait, the rest of its queue is postponed until then.
func (d *Dispatcher) sendAll(ctx context.Context, target string, rows []store.Delivery) {
	defer d.wg.Done()
	name, _, _ := strings.Cut(target, ":")
	limit, ok := d.maxPerHour[name]
	if !ok {
		limit = DefaultMaxPerHour
	}
	sentHour := -1 // instant alerts sent in the last hour, read when first needed
	refs := map[int64]string{}
	var flooded []store.Delivery
	var holdUntil time.Time
	for i, r := range rows {
		if ctx.Err() != nil {
			break
		}
		if instant(r.Kind) && limit > 0 {
			if sentHour < 0 {
				n, err := d.store.SentAlerts(ctx, target, d.now().Add(-time.Hour))
				if err != nil {
					d.logger.Error("counting sent alerts failed", "target", target, "err", err)
				}
				sentHour = n
			}
			if sentHour >= limit {
				flooded = append(flooded, r)
				continue
			}
		}
		if r.ParentID != 0 && r.ParentRef == "" {
			r.ParentRef = refs[r.ParentID] // the parent went out earlier in this batch
		}
		if r.Kind == notifiers.KindFollowUp && r.ParentRef == "" && limit > 0 && sentHour >= limit {
			// Its parent is held for a summary: the copy goes with it rather
			// than before it.
			flooded = append(flooded, r)
			continue
		}
		var ref string
		ref, holdUntil = d.send(ctx, r)
		if !holdUntil.IsZero() {
			d.postpone(ctx, target, rows[i+1:], holdUntil)
			d.postpone(ctx, target, flooded, holdUntil)
			flooded = nil
			break
		}
		refs[r.ID] = ref
		if instant(r.Kind) {
			sentHour++
		}
	}
	if len(flooded) > 0 && ctx.Err() == nil {
		holdUntil = d.summarise(ctx, target, flooded)
	}
	d.mu.Lock()
	delete(d.busy, target)
	d.done[target]++
	if !holdUntil.IsZero() {
		d.hold[target] = holdUntil
	}
	d.mu.Unlock()
	d.Kick()
}

// instant reports whether a kind of delivery counts against the flood limit.
func instant(kind string) bool {
	return kind == "" || kind == notifiers.KindAlert || kind == notifiers.KindSurge
}

// postpone makes rows due again at until, without counting an attempt.
func (d *Dispatcher) postpone(ctx context.Context, target string, rows []store.Delivery, until time.Time) {
	if len(rows) == 0 {
		return
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	bk, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.store.Postpone(bk, ids, until); err != nil {
		d.logger.Error("postponing alerts failed", "target", target, "err", err)
	}
}

// summarise sends the flooded rows of a target as one summary message, or
// postpones them until the target's next summary is allowed. It returns when
// the target should next be tried if the summary is to be retried.
func (d *Dispatcher) summarise(ctx context.Context, target string, rows []store.Delivery) time.Time {
	now := d.now()
	d.mu.Lock()
	next, known := d.nextSummary[target]
	d.mu.Unlock()
	if !known {
		// After a restart: the last summary's time is in the store.
		last, err := d.store.LastSummary(ctx, target)
		if err != nil {
			d.logger.Error("reading the last summary failed", "target", target, "err", err)
		} else if !last.IsZero() {
			next = last.Add(SummaryEvery)
		}
		d.mu.Lock()
		d.nextSummary[target] = next
		d.mu.Unlock()
	}
	if now.Before(next) {
		d.postpone(ctx, target, rows, next)
		return time.Time{}
	}
	name, channel, _ := strings.Cut(target, ":")
	n := d.notifiers[name]
	if n == nil {
		for _, r := range rows {
			d.send(ctx, r) // fails them with the reason
		}
		return time.Time{}
	}
	a := &notifiers.Alert{Kind: notifiers.KindSummary, Target: target, Channel: channel, ID: rows[0].ID, Total: len(rows)}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
		a.Rules = mergeTerms(a.Rules, r.Rules)
		a.Terms = mergeTerms(a.Terms, r.Terms)
		if r.Story != nil && len(a.Stories) < summaryStories {
			a.Stories = append(a.Stories, *r.Story)
		}
	}
	log := d.logger.With("target", target)
	_, retry, err := n.Notify(ctx, a)
	bk, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err == nil {
		if err := d.store.MarkSummarised(bk, ids, "", d.now()); err != nil {
			log.Error("recording a summary failed", "err", err)
		}
		d.mu.Lock()
		d.nextSummary[target] = now.Add(SummaryEvery)
		d.mu.Unlock()
		d.metrics.Deliveries.WithLabelValues(name, "summarised").Add(float64(len(ids)))
		log.Info("flood limit reached: sent a summary", "alerts", len(ids))
		return time.Time{}
	}
	if ctx.Err() != nil {
		return time.Time{}
	}
	wait := retryDelay(d.retryBase, 1, notifiers.RetryAfter(err))
	if !retry {
		wait = SummaryEvery
	}
	log.Warn("sending a summary failed; will retry", "err", err, "retry", retry)
	d.postpone(ctx, target, rows, now.Add(wait))
	return now.Add(wait)
}

// summaryStories is the most stories one summary or digest lists.
const summaryStories = 20

// send delivers one row and records the outcome. It returns the message
// reference, and when the target should next be tried if the send is to be
// retried (else the zero time).
func (d *Dispatcher) send(ctx context.Context, r store.Delivery) (string, time.Time) {
	name, channel, _ := strings.Cut(r.Target, ":")
	log := d.logger.With("target", r.Target, "delivery", r.ID)
	// Bookkeeping must land even when a shutdown cancels ctx after the send.
	bk, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()

	n := d.notifiers[name]
	if n == nil {
		d.fail(bk, log, r, name, "no notifier named "+name+" is configured")
		return "", time.Time{}
	}
	if (r.Kind == "" || r.Kind == notifiers.KindAlert || r.Kind == notifiers.KindFollowUp) && r.Story == nil {
		d.fail(bk, log, r, name, "the story is no longer stored")
		return "", time.Time{}
	}
	ref, retry, err := n.Notify(ctx, &notifiers.Alert{
		ID: r.ID, Kind: r.Kind, Target: r.Target, Channel: channel,
		Rules: r.Rules, Terms: r.Terms, Story: r.Story, Stories: r.Stories[:min(len(r.Stories), summaryStories)],
		Total: len(r.Stories), Cluster: r.Cluster, ParentRef: r.ParentRef, Text: r.Text,
	})
	now := d.now()
	if err == nil {
		if err := d.store.MarkSent(bk, r.ID, ref, now); err != nil {
			log.Error("recording a sent alert failed", "err", err)
		}
		d.metrics.Deliveries.WithLabelValues(name, "sent").Inc()
		d.noteSend(r.Target, nil, false)
		return ref, time.Time{}
	}
	if ctx.Err() != nil {
		return "", time.Time{} // shutting down: the row stays pending for the next start
	}
	attempts := r.Attempts + 1
	if !retry || attempts >= maxAttempts {
		d.fail(bk, log, r, name, err.Error())
		return "", time.Time{}
	}
	d.noteSend(r.Target, err, false)
	next := now.Add(retryDelay(d.retryBase, attempts, notifiers.RetryAfter(err)))
	if err := d.store.Reschedule(bk, r.ID, next, err.Error()); err != nil {
		log.Error("rescheduling an alert failed", "err", err)
	}
	d.metrics.Deliveries.WithLabelValues(name, "retried").Inc()
	log.Warn("send failed; will retry", "err", err, "attempt", attempts, "next", next.Format(time.RFC3339))
	return "", next
}

func (d *Dispatcher) fail(ctx context.Context, log *slog.Logger, r store.Delivery, notifier, msg string) {
	if err := d.store.MarkFailed(ctx, r.ID, msg); err != nil {
		log.Error("recording a failed alert failed", "err", err)
	}
	d.noteSend(r.Target, errors.New(msg), true)
	d.metrics.Deliveries.WithLabelValues(notifier, "failed").Inc()
	log.Error("alert failed for good", "err", msg, "attempts", r.Attempts+1)
}

// retryDelay is the wait before attempt n+1: the receiver's Retry-After when it
// gave one, else exponential backoff with ±20% jitter.
func retryDelay(base time.Duration, attempts int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := base << min(attempts-1, 20)
	d = min(d, retryCap)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

package bot

import (
	"context"
	"errors"
	"fmt"
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
	// DefaultMaxRetryAfter caps the wait a receiver's Retry-After can ask
	// for ([alerts] max_retry_after): one answer must not stall a target for
	// days.
	DefaultMaxRetryAfter = time.Hour
	maxAttempts          = 15

	// DefaultMaxPerHour is the number of instant alerts a target gets in an
	// hour before further ones are gathered into summaries.
	DefaultMaxPerHour = 30
	// SummaryEvery is the least time between two summaries to one target.
	SummaryEvery = 15 * time.Minute

	// DefaultLaneTTL is how long a dispatcher's lease on a target's queue
	// lasts; every recorded send renews it. A send is cut off at half of it
	// (45 s, beyond the notifiers' own 20-30 s timeouts).
	DefaultLaneTTL = 90 * time.Second
	// defaultLanes is how many targets one dispatcher sends to at once.
	defaultLanes = 16
	// laneRows is how many due rows of a target one lease takes at most.
	laneRows = 500
	// bookkeepingTimeout bounds the recording of a send's outcome. It starts
	// when the send has ended, so a slow receiver cannot eat into it.
	bookkeepingTimeout = 30 * time.Second
)

// DispatcherOptions are a Dispatcher's dependencies and settings.
type DispatcherOptions struct {
	Store     store.Store
	Notifiers map[string]notifiers.Notifier // by notifier name
	Metrics   *Metrics
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
	// RetryBase is the wait before the first retry (0: DefaultRetryBase).
	RetryBase time.Duration
	// MaxPerHour is the flood limit by notifier name (missing:
	// DefaultMaxPerHour; 0: none).
	MaxPerHour map[string]int
	// Owner names this process in its leases (default NewOwner()).
	Owner string
	// LaneTTL is how long a lease on a target's queue lasts (0:
	// DefaultLaneTTL). A send is cut off at half of it, so that it always
	// ends while the lease holds.
	LaneTTL time.Duration
	// Lanes is how many targets are sent to at once (0: 16).
	Lanes int
	// MaxRetryAfter caps a receiver's Retry-After (0:
	// DefaultMaxRetryAfter); waits already stored past it are brought
	// forward when the dispatcher starts.
	MaxRetryAfter time.Duration
}

// Dispatcher sends due outbox rows through their target's notifier. It
// claims a target's queue (a lane) from the store with a lease, sends its
// due rows in order, one at a time (the notifier paces them), and records
// each outcome under the lease; targets are served concurrently. A target
// that asks to wait (429, 5xx) is held in the store until then, and the rest
// of its queue waits with it. Every decision is read from the store, so any
// number of dispatchers on one store send each row once.
type Dispatcher struct {
	o           DispatcherOptions
	sendTimeout time.Duration
	margin      time.Duration // a lease with less than this left sends nothing more

	kick  chan struct{}
	slots chan struct{} // one per target being sent to
	wg    sync.WaitGroup

	// failing holds, per target, the last send error not yet followed by a
	// successful send; failed counts deliveries that failed for good. They
	// only feed the report of `run --once`; no decision reads them.
	mu      sync.Mutex
	failing map[string]string
	failed  int
}

// NewDispatcher returns a dispatcher with the given options.
func NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.Owner == "" {
		o.Owner = NewOwner()
	}
	if o.LaneTTL <= 0 {
		o.LaneTTL = DefaultLaneTTL
	}
	if o.Lanes <= 0 {
		o.Lanes = defaultLanes
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return &Dispatcher{
		o: o, sendTimeout: o.LaneTTL / 2, margin: o.LaneTTL / 4,
		kick: make(chan struct{}, 1), slots: make(chan struct{}, o.Lanes),
		failing: map[string]string{},
	}
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

// Kick tells the dispatcher that new rows may be due.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx is done, then waits for the sends in flight. Sends
// and their bookkeeping use sendCtx, which the caller cancels only when
// draining takes too long.
func (d *Dispatcher) Run(ctx, sendCtx context.Context) {
	defer d.wg.Wait()
	d.clampWaits(ctx)
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
		timer.Reset(d.nextWake(sendCtx))
	}
}

// clampWaits brings waits stored past the Retry-After ceiling (by an older
// version, or under a higher setting) forward to it, so that no row and no
// target stays stuck past it, across restarts too.
func (d *Dispatcher) clampWaits(ctx context.Context) {
	n, err := d.o.Store.ClampWaits(ctx, d.o.Now().Add(d.o.MaxRetryAfter))
	switch {
	case err != nil && ctx.Err() == nil:
		d.o.Logger.Error("bringing long waits forward failed", "err", err)
	case n > 0:
		d.o.Logger.Info("brought waits past the Retry-After ceiling forward", "changed", n, "max_retry_after", d.o.MaxRetryAfter)
	}
}

// nextWake returns how long to wait before looking for due rows again: until
// the next one falls due, and at most idlePoll, since other processes queue
// rows too.
func (d *Dispatcher) nextWake(ctx context.Context) time.Duration {
	next, ok, err := d.o.Store.NextDue(ctx)
	if err != nil || !ok {
		return idlePoll
	}
	return min(max(next.Sub(d.o.Now()), 10*time.Millisecond), idlePoll)
}

// Drain sends everything that is due and waits for it; it keeps waiting for
// rows due within maxWait of now, then returns (for `run --once` and the end
// of a shutdown).
func (d *Dispatcher) Drain(ctx context.Context, maxWait time.Duration) {
	deadline := d.o.Now().Add(maxWait)
	for ctx.Err() == nil {
		claimed := d.dispatchDue(ctx)
		d.wg.Wait()
		if claimed > 0 {
			continue // a lane may have had more rows than one lease takes
		}
		next, ok, err := d.o.Store.NextDue(ctx)
		if err != nil || !ok || next.After(deadline) {
			if err != nil {
				d.o.Logger.Error("reading the outbox failed", "err", err)
			}
			return
		}
		// A lane held by another process comes free when that process
		// releases it, which no timer here foresees: look again at least
		// every idlePoll.
		if wait := min(next.Sub(d.o.Now()), idlePoll); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-d.kick:
				t.Stop()
			case <-t.C:
			}
		}
	}
}

// dispatchDue claims as many lanes as there are free sender slots and starts
// a sender for each; it returns how many it claimed.
func (d *Dispatcher) dispatchDue(ctx context.Context) int {
	free := cap(d.slots) - len(d.slots)
	if free == 0 || ctx.Err() != nil {
		return 0
	}
	lanes, err := d.o.Store.ClaimLanes(ctx, store.LaneClaim{Owner: d.o.Owner, TTL: d.o.LaneTTL, Lanes: free, Rows: laneRows})
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("claiming due alerts failed", "err", err)
		}
		return 0
	}
	for _, l := range lanes {
		d.slots <- struct{}{}
		d.wg.Add(1)
		go d.sendLane(ctx, l)
	}
	return len(lanes)
}

// lane is a claimed target's queue while it is being sent.
type lane struct {
	store.Lane
	d        *Dispatcher
	log      *slog.Logger
	notifier string
	// validUntil is when the lease runs out by this process's own
	// (monotonic) clock, less the margin: past it nothing more is sent, since
	// another worker may have taken the queue over.
	validUntil time.Time
	lost       bool // another worker has the lease now
}

// settle records an outcome under the lease, renewing it. Its deadline
// starts now, after the send, whatever the send took.
func (l *lane) settle(ctx context.Context, o store.Outcome) error {
	bk, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	var lease store.Lease
	// While the store does not answer, the outcome is tried again as long as
	// the lease lasts: a send recorded late is better than one sent twice.
	err := retryStore(bk, time.Now().Add(time.Until(l.validUntil)+l.d.margin), func() error {
		var err error
		lease, err = l.d.o.Store.Settle(bk, l.Target, l.Lease, l.d.o.LaneTTL, o)
		return err
	}, func(err error) bool { return errors.Is(err, store.ErrLeaseLost) })
	if err != nil {
		l.lost = errors.Is(err, store.ErrLeaseLost)
		if l.lost {
			l.log.Warn("another worker took the target's queue over; this outcome is not recorded", "err", err)
		} else {
			l.log.Error("recording a delivery outcome failed", "err", err)
		}
		return err
	}
	l.Lease = lease
	l.validUntil = time.Now().Add(l.d.o.LaneTTL - l.d.margin)
	return nil
}

// valid reports whether the lease leaves time for another send.
func (l *lane) valid() bool {
	if time.Now().Before(l.validUntil) {
		return true
	}
	l.log.Warn("the lease on the target's queue ran out; leaving the rest to the next claim")
	return false
}

// sendLane sends one claimed target's due rows in order. Instant alerts
// beyond the target's hourly limit are held back and sent together as one
// summary; when the target asks to wait, the lane is held until then.
func (d *Dispatcher) sendLane(ctx context.Context, claimed store.Lane) {
	defer d.wg.Done()
	defer func() { <-d.slots; d.Kick() }()
	name, _, _ := strings.Cut(claimed.Target, ":")
	l := &lane{
		Lane: claimed, d: d, notifier: name,
		log:        d.o.Logger.With("target", claimed.Target),
		validUntil: time.Now().Add(d.o.LaneTTL - d.margin),
	}
	limit, ok := d.o.MaxPerHour[name]
	if !ok {
		limit = DefaultMaxPerHour
	}
	flooding := func() bool { return limit > 0 && l.SentLastHour >= limit }
	refs := map[int64]string{}
	var flooded []store.Delivery
	var hold store.Hold
	for _, r := range l.Due {
		if ctx.Err() != nil || !l.valid() {
			break
		}
		if store.Instant(r.Kind) && flooding() {
			flooded = append(flooded, r)
			continue
		}
		if r.ParentID != 0 && r.ParentRef == "" {
			r.ParentRef = refs[r.ParentID] // the parent went out earlier in this lease
		}
		if r.Kind == store.KindFollowUp && r.ParentRef == "" && flooding() {
			// Its parent is held for a summary: the copy goes with it rather
			// than before it.
			flooded = append(flooded, r)
			continue
		}
		o, ref, h, ok := d.send(ctx, l, r)
		if !ok || l.settle(ctx, o) != nil {
			break
		}
		if o.Status == store.StatusSent {
			refs[r.ID] = ref
			if store.Instant(r.Kind) {
				l.SentLastHour++
			}
		}
		if !h.Until.IsZero() {
			hold = h
			break
		}
	}
	if len(flooded) > 0 && ctx.Err() == nil && hold.Until.IsZero() && !l.lost && l.valid() {
		hold = d.summarise(ctx, l, flooded, limit)
	}
	if l.lost {
		return
	}
	bk, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	if err := d.o.Store.ReleaseLane(bk, l.Target, l.Lease, hold); err != nil {
		l.log.Warn("releasing the target's queue failed; its lease will run out", "err", err)
	}
}

// summarise sends the flooded rows of a lane as one summary message, or
// holds them until the target's next summary is allowed. It returns the hold
// the lane gets when the summary is to be retried.
func (d *Dispatcher) summarise(ctx context.Context, l *lane, rows []store.Delivery, limit int) store.Hold {
	now := d.o.Now()
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if next := l.LastSummary.Add(SummaryEvery); !l.LastSummary.IsZero() && now.Before(next) {
		_ = l.settle(ctx, store.Outcome{
			IDs: ids, Status: store.StatusPending, Next: next,
			Waiting: fmt.Sprintf("flood control: more than %d alerts in an hour; in the summary at %s", limit, next.UTC().Format(time.RFC3339)),
		})
		return store.Hold{}
	}
	n := d.o.Notifiers[l.notifier]
	if n == nil {
		for _, r := range rows {
			if o, _, _, ok := d.send(ctx, l, r); !ok || l.settle(ctx, o) != nil { // fails them with the reason
				break
			}
		}
		return store.Hold{}
	}
	_, channel, _ := strings.Cut(l.Target, ":")
	a := &notifiers.Alert{Kind: store.KindSummary, Target: l.Target, Channel: channel, ID: rows[0].ID, Total: len(rows)}
	for _, r := range rows {
		a.Rules = mergeTerms(a.Rules, r.Rules)
		a.Terms = mergeTerms(a.Terms, r.Terms)
		if r.Story != nil && len(a.Stories) < summaryStories {
			a.Stories = append(a.Stories, *r.Story)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, d.sendTimeout)
	ref, retry, err := n.Notify(sctx, a)
	cancel()
	now = d.o.Now()
	if err == nil {
		if l.settle(ctx, store.Outcome{IDs: ids, Status: store.StatusSummarised, Ref: ref, At: now, Attempt: true}) == nil {
			d.o.Metrics.Deliveries.WithLabelValues(l.notifier, "summarised").Add(float64(len(ids)))
			l.log.Info("flood limit reached: sent a summary", "alerts", len(ids))
		}
		return store.Hold{}
	}
	if ctx.Err() != nil {
		return store.Hold{}
	}
	wait := retryDelay(d.o.RetryBase, 1, notifiers.RetryAfter(err), d.o.MaxRetryAfter)
	if !retry {
		wait = SummaryEvery
	}
	reason := fmt.Sprintf("the flood summary failed (%v); trying again at %s", err, now.Add(wait).UTC().Format(time.RFC3339))
	l.log.Warn("sending a summary failed; will retry", "err", err, "retry", retry)
	_ = l.settle(ctx, store.Outcome{IDs: ids, Status: store.StatusPending, Next: now.Add(wait), Error: err.Error(), At: now, Waiting: reason})
	return store.Hold{Until: now.Add(wait), Reason: reason}
}

// summaryStories is the most stories one summary or digest lists.
const summaryStories = 20

// send delivers one row and returns the outcome to record, the message
// reference, and a hold for the lane when the target asked to wait. ok is
// false when the send was cut off by a shutdown: nothing is recorded, and
// the row goes out on the next start, with the same idempotency key.
func (d *Dispatcher) send(ctx context.Context, l *lane, r store.Delivery) (o store.Outcome, ref string, hold store.Hold, ok bool) {
	log := l.log.With("delivery", r.ID)
	o = store.Outcome{IDs: []int64{r.ID}, Attempt: true}
	fail := func(msg string) (store.Outcome, string, store.Hold, bool) {
		o.Status, o.Error, o.At = store.StatusFailed, msg, d.o.Now()
		d.noteSend(r.Target, errors.New(msg), true)
		d.o.Metrics.Deliveries.WithLabelValues(l.notifier, "failed").Inc()
		log.Error("alert failed for good", "err", msg, "attempts", r.Attempts+1)
		return o, "", store.Hold{}, true
	}
	n := d.o.Notifiers[l.notifier]
	if n == nil {
		return fail("no notifier named " + l.notifier + " is configured")
	}
	if (r.Kind == "" || r.Kind == store.KindAlert || r.Kind == store.KindFollowUp) && r.Story == nil {
		return fail("the story is no longer stored")
	}
	_, channel, _ := strings.Cut(r.Target, ":")
	sctx, cancel := context.WithTimeout(ctx, d.sendTimeout)
	ref, retry, err := n.Notify(sctx, &notifiers.Alert{
		ID: r.ID, Kind: r.Kind, Target: r.Target, Channel: channel,
		Rules: r.Rules, Terms: r.Terms, Story: r.Story, Stories: r.Stories[:min(len(r.Stories), summaryStories)],
		Total: len(r.Stories), Cluster: r.Cluster, ParentRef: r.ParentRef, Text: r.Text,
	})
	timedOut := errors.Is(sctx.Err(), context.DeadlineExceeded)
	cancel()
	now := d.o.Now()
	if err == nil {
		o.Status, o.Ref, o.At = store.StatusSent, ref, now
		d.o.Metrics.Deliveries.WithLabelValues(l.notifier, "sent").Inc()
		d.noteSend(r.Target, nil, false)
		return o, ref, store.Hold{}, true
	}
	if ctx.Err() != nil {
		return o, "", store.Hold{}, false
	}
	if timedOut {
		err, retry = fmt.Errorf("no answer within %s: %w", d.sendTimeout, err), true
	}
	attempts := r.Attempts + 1
	if !retry || attempts >= maxAttempts {
		return fail(err.Error())
	}
	d.noteSend(r.Target, err, false)
	after := notifiers.RetryAfter(err)
	next := now.Add(retryDelay(d.o.RetryBase, attempts, after, d.o.MaxRetryAfter))
	reason := fmt.Sprintf("attempt %d failed; trying again at %s", attempts, next.UTC().Format(time.RFC3339))
	switch {
	case after > d.o.MaxRetryAfter:
		reason = fmt.Sprintf("the receiver asked to wait %s (Retry-After), more than the ceiling of %s (max_retry_after); trying again at %s",
			after, d.o.MaxRetryAfter, next.UTC().Format(time.RFC3339))
	case after > 0:
		reason = fmt.Sprintf("the receiver asked to wait (Retry-After %s); trying again at %s", after, next.UTC().Format(time.RFC3339))
	}
	o.Status, o.Next, o.Error, o.At, o.Waiting = store.StatusPending, next, err.Error(), now, reason
	d.o.Metrics.Deliveries.WithLabelValues(l.notifier, "retried").Inc()
	log.Warn("send failed; will retry", "err", err, "attempt", attempts, "next", next.Format(time.RFC3339))
	return o, "", store.Hold{Until: next, Reason: reason}, true
}

// retryDelay is the wait before attempt n+1: the receiver's Retry-After when it
// gave one (at most ceiling), else exponential backoff with ±20% jitter.
func retryDelay(base time.Duration, attempts int, retryAfter, ceiling time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, ceiling)
	}
	d := base << min(attempts-1, 20)
	d = min(d, retryCap)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

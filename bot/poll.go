package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// poller fetches one source at a time: conditional GET, parse, ingest with the
// rule plan in one transaction, and the source's fetch state recorded either way.
type poller struct {
	store   store.Store
	fetcher *sources.Fetcher
	planner planner
	metrics *Metrics
	logger  *slog.Logger
	now     func() time.Time
	// guarded reports whether a source must be fetched through the
	// private-address guard (sources added at run time).
	guarded func(store.Source) bool
	health  Health
	// interval is the fetch interval of sources without their own.
	interval time.Duration
}

// Health says where feed-health alerts go and after how many consecutive
// failures a source is reported.
type Health struct {
	Notify []string // targets
	After  int      // consecutive failures; 0 turns health alerts off
}

// poll fetches a claimed source and stores what it found, with the source's
// next due time, under the claim's lease. It returns whether new deliveries
// were queued. A failed fetch is recorded in the source's state, not
// returned: one broken source must not affect the others.
func (p *poller) poll(ctx context.Context, c store.ClaimedSource) (queued bool) {
	src := c.Source
	log := p.logger.With("source", src.Name)
	st := src.State
	started := p.now()
	begun := time.Now() // the duration is measured on the monotonic clock, whatever p.now says
	res, err := p.fetcher.Fetch(ctx, sources.Request{
		SourceID:     src.ID,
		Name:         src.Name,
		URL:          src.URL,
		ETag:         st.ETag,
		LastModified: st.LastModified,
		Guarded:      p.guarded(src),
	})
	elapsed := time.Since(begun)
	p.metrics.FetchDuration.WithLabelValues(src.Name).Observe(elapsed.Seconds())
	st.LastFetch = started
	st.LastStatus = res.Status
	entry := store.FetchLogEntry{
		SourceID: src.ID, At: started, Status: res.Status, NotModified: res.NotModified,
		Items: max(res.Items, len(res.Stories)), Bytes: res.Bytes, Duration: elapsed,
	}
	if res.Items > len(res.Stories) {
		log.Warn("feed holds more items than one fetch reads; only the newest are read",
			"items", res.Items, "read", len(res.Stories))
	}
	if err != nil {
		if ctx.Err() != nil {
			return false // shutting down: not the source's fault
		}
		p.metrics.Fetches.WithLabelValues(src.Name, "error").Inc()
		return p.recordFailure(ctx, log, c, &st, entry, err)
	}
	if res.NotModified {
		p.metrics.Fetches.WithLabelValues(src.Name, "not_modified").Inc()
		return p.recordSuccess(ctx, log, c, &st, entry, res)
	}
	p.metrics.Fetches.WithLabelValues(src.Name, "ok").Inc()

	alertable := func(fresh []story.Story) map[string]bool { return nil }
	if !st.Primed {
		alertable = func(fresh []story.Story) map[string]bool { return newest(fresh, src.Backfill) }
	}
	out, err := p.store.Ingest(ctx, src.ID, res.Stories, p.planner.plan(alertable, prints(res.Stories)))
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		// The store failed, not the source: no failure counts against the
		// source and no backoff follows; its validators stay as they were,
		// so that the next fetch gets these items again.
		log.Error("storing stories failed; fetching again soon", "err", err)
		st.LastError = "storing the stories failed: " + err.Error()
		p.save(ctx, log, c, &st, st.LastFetch.Add(storeRetry))
		entry.Error = st.LastError
		p.logFetch(ctx, log, entry)
		return false
	}
	p.metrics.Stories.WithLabelValues(src.Name).Add(float64(out.Fresh))
	p.metrics.Matches.Add(float64(out.Matches))
	if out.Duplicates > 0 {
		p.metrics.Deliveries.WithLabelValues("", "duplicate").Add(float64(out.Duplicates))
	}
	st.Primed = true
	entry.Fresh = out.Fresh
	recovered := p.recordSuccess(ctx, log, c, &st, entry, res)
	log.Debug("fetched", "items", len(res.Stories), "new", out.Fresh, "matches", out.Matches, "queued", out.Deliveries, "duplicates", out.Duplicates)
	return out.Deliveries > 0 || recovered
}

// recordSuccess saves the state of a successful fetch and logs it. It reports
// whether a recovery alert was queued.
func (p *poller) recordSuccess(ctx context.Context, log *slog.Logger, c store.ClaimedSource, st *store.SourceState, entry store.FetchLogEntry, res sources.Result) bool {
	src := c.Source
	queued := false
	if st.HealthAlerted {
		queued = p.healthAlert(ctx, log, fmt.Sprintf("Source %q has recovered after %d failed fetches (failing since %s).",
			src.Name, st.Failures, st.FailingSince.UTC().Format(time.RFC3339)))
		st.HealthAlerted = false
	}
	if res.ETag != "" || !res.NotModified {
		st.ETag = res.ETag
	}
	if res.LastModified != "" || !res.NotModified {
		st.LastModified = res.LastModified
	}
	st.LastSuccess = st.LastFetch
	st.LastError = ""
	st.Failures = 0
	st.FailingSince = time.Time{}
	p.save(ctx, log, c, st, time.Time{})
	p.logFetch(ctx, log, entry)
	return queued
}

// recordFailure saves the state of a failed fetch with its backoff, logs it,
// and reports the source once it has failed Health.After times in a row. It
// reports whether a health alert was queued.
func (p *poller) recordFailure(ctx context.Context, log *slog.Logger, c store.ClaimedSource, st *store.SourceState, entry store.FetchLogEntry, err error) bool {
	src := c.Source
	var retryAfter time.Duration
	var fe *sources.Error
	if errors.As(err, &fe) {
		retryAfter = fe.RetryAfter
		if fe.Status != 0 {
			st.LastStatus = fe.Status
		}
	}
	if st.Failures == 0 {
		st.FailingSince = st.LastFetch
	}
	st.Failures++
	st.LastError = err.Error()
	wait := sources.Backoff(st.Failures, retryAfter, rand.Float64)
	log.Warn("fetch failed", "err", err, "failures", st.Failures, "retry_in", wait.Round(time.Second))
	queued := false
	if p.health.After > 0 && st.Failures >= p.health.After && !st.HealthAlerted {
		queued = p.healthAlert(ctx, log, fmt.Sprintf("Source %q is failing: %d fetches in a row since %s. Last error: %s",
			src.Name, st.Failures, st.FailingSince.UTC().Format(time.RFC3339), st.LastError))
		st.HealthAlerted = true
	}
	p.save(ctx, log, c, st, st.LastFetch.Add(wait))
	entry.Status, entry.Error = st.LastStatus, st.LastError
	p.logFetch(ctx, log, entry)
	return queued
}

// healthAlert queues a feed-health message to every health target.
func (p *poller) healthAlert(ctx context.Context, log *slog.Logger, text string) bool {
	if len(p.health.Notify) == 0 {
		return false
	}
	ds := make([]store.Delivery, 0, len(p.health.Notify))
	for _, t := range p.health.Notify {
		ds = append(ds, store.Delivery{Target: t, Kind: store.KindHealth, Text: text})
	}
	if _, err := p.store.Enqueue(ctx, ds); err != nil {
		log.Error("queueing a health alert failed", "err", err)
		return false
	}
	return true
}

// storeRetry is how soon a source is fetched again when its stories could
// not be stored.
const storeRetry = 30 * time.Second

// save records the fetch state with the source's next due time (the first
// slot after backoffEnd when it is set) and ends the fetch's lease. While
// the store does not answer it tries again, for as long as the lease lasts:
// a lease left behind would keep the source from being fetched until it ran
// out.
func (p *poller) save(ctx context.Context, log *slog.Logger, c store.ClaimedSource, st *store.SourceState, backoffEnd time.Time) {
	next, err := nextDue(c.Source, p.interval, st.LastFetch, backoffEnd)
	if err != nil {
		log.Error("the source's schedule does not parse; fetching at the default interval", "err", err)
	}
	st.NextFetch = next
	err = retryStore(ctx, c.Lease.Until, func() error { return p.store.SaveSourceState(ctx, c.ID, *st, c.Lease) },
		func(err error) bool { return errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound) })
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, store.ErrLeaseLost):
		log.Warn("another worker took the source over during the fetch; its state stands", "err", err)
	case errors.Is(err, store.ErrNotFound):
		log.Debug("the source was removed during the fetch")
	default:
		log.Error("saving fetch state failed", "err", err)
	}
}

// logFetch adds the attempt to the source's fetch log. The log is for people
// to read: a failure to write it is logged and changes nothing else.
func (p *poller) logFetch(ctx context.Context, log *slog.Logger, entry store.FetchLogEntry) {
	err := p.store.LogFetch(ctx, entry)
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.Is(err, store.ErrNotFound):
		log.Debug("fetch log: the source was removed during the fetch")
	default:
		log.Error("writing the fetch log failed", "err", err)
	}
}

// retryStore runs op until it succeeds, returns an error final says to stop
// at, ctx ends, or until (on the store's clock, which is this machine's or
// the database's, close enough for a pause of seconds) comes within a
// second: with pauses from 200 ms doubling to 5 s. It returns op's last
// error. A store that drops for a while (a restarting database, a cut
// connection) then loses nothing that a retry can save.
func retryStore(ctx context.Context, until time.Time, op func() error, final func(error) bool) error {
	pause := 200 * time.Millisecond
	for {
		err := op()
		if err == nil || final(err) || ctx.Err() != nil || time.Until(until) < pause+time.Second {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 5*time.Second)
	}
}

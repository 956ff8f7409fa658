// Package notifiers defines how an alert leaves wirewatch: the Alert a dispatcher
// hands over, the Notifier interface every output implements, and the shared
// decision of whether a failed send is worth retrying. Notifiers only format and
// send; retry, dedup and pacing are the dispatcher's stages.
package notifiers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// Alert is one message to one target. For an instant alert Story is set; for a
// digest or summary Stories is. Rules names every rule that matched.
type Alert struct {
	// ID is the outbox row id; stable across retries, usable as an idempotency key.
	ID int64
	// Kind is one of store's delivery kinds (store.KindAlert, …); empty means an alert.
	Kind string
	// Target is the full target string ("team-slack:#ai-policy").
	Target string
	// Channel is the part of the target after the notifier name (empty for console/webhook).
	Channel string
	// Rules are the names of the rules that matched.
	Rules []string
	// Terms are the distinct positive query terms that matched, lower-cased.
	Terms []string
	// Story is the story of an instant alert or follow-up.
	Story *story.Story
	// Stories are the stories of a digest or summary.
	Stories []story.Story
	// Total is how many stories a digest or summary stands for; Stories may
	// list only the newest of them. 0 means len(Stories).
	Total int
	// Cluster is the stable id of the story's cluster of near-duplicates, if known.
	Cluster string
	// ParentRef is the message reference of the first alert of the cluster, for
	// threading a follow-up under it (empty: post at top level).
	ParentRef string
	// Text is a pre-written message for kinds that are not about stories (health).
	Text string
}

// Notifier sends alerts to one configured output.
type Notifier interface {
	// Notify sends one alert. On success it returns a reference to the message
	// that was posted (a Slack ts, a Discord message id; may be empty) so that
	// follow-ups can thread under it. On failure, retry reports whether trying
	// again can help; an error wrapping *RetryAfterError carries the server's wait.
	Notify(ctx context.Context, a *Alert) (ref string, retry bool, err error)
}

// Wait pauses for d or until ctx ends, whichever is first; notifiers pace
// their sends with it.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RetryAfterError says that the receiver asked to wait After before trying again.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// Error describes the failure and the wait.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

// Unwrap returns the underlying error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns the wait the receiver asked for, or 0 when err carries none.
func RetryAfter(err error) time.Duration {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After
	}
	return 0
}

// RetryStatus reports whether an HTTP status code is worth retrying:
// 429 and 5xx are, every other status is not.
func RetryStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

// ParseRetryAfter reads a Retry-After header value (seconds or an HTTP date)
// relative to now; it returns 0 when the value is absent or unreadable
// (NaN, infinities and negative numbers included). A number of seconds too
// large for a Duration is the largest Duration: the dispatcher caps every
// wait ([alerts] max_retry_after), so it must never wrap to a negative one.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case math.IsNaN(secs) || math.IsInf(secs, 0) && err == nil || secs < 0:
			return 0
		case secs >= float64(math.MaxInt64)/float64(time.Second):
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

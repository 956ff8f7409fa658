package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Plan makes a store.PlanFunc of a plan that needs nothing from the ingest
// transaction: it sees the fresh stories (and may set their Cluster) and
// returns matches and deliveries.
func Plan(f func(fresh []story.Story) ([]store.Match, []store.Delivery)) store.PlanFunc {
	if f == nil {
		return nil
	}
	return func(_ context.Context, _ store.PlanTx, fresh []story.Story) (store.Plan, error) {
		ms, ds := f(fresh)
		return store.Plan{Matches: ms, Deliveries: ds}, nil
	}
}

// owner is the lease owner the helpers claim lanes as.
const owner = "storetest"

// Due returns the pending rows due by at, oldest first, as the delivery log
// shows them.
func Due(t testing.TB, s store.Store, at time.Time) []store.Delivery {
	t.Helper()
	ds, err := s.Deliveries(t.Context(), store.DeliveryQuery{Status: store.StatusPending, Limit: 100_000})
	check(t, err)
	var out []store.Delivery
	for _, d := range slices.Backward(ds) {
		if !d.NextAttempt.After(at) {
			out = append(out, d)
		}
	}
	return out
}

// Settle records outcome o of the due row id, as a dispatcher would: it
// claims every lane with due rows, settles the row in the lane that has it,
// and releases them all. The row must be due now.
func Settle(t testing.TB, s store.Store, id int64, o store.Outcome) {
	t.Helper()
	ctx := t.Context()
	lanes, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: owner, TTL: time.Minute, Lanes: 10_000, Rows: 100_000})
	check(t, err)
	found := false
	for _, l := range lanes {
		for _, d := range l.Due {
			if d.ID == id && !found {
				found = true
				o.IDs = []int64{id}
				_, err := s.Settle(ctx, l.Target, l.Lease, time.Minute, o)
				check(t, err)
			}
		}
		check(t, s.ReleaseLane(ctx, l.Target, l.Lease, store.Hold{}))
	}
	if !found {
		t.Fatalf("settle %d: no due row with that id", id)
	}
}

// MarkSent records that the due row id was sent at at, with reference ref.
func MarkSent(t testing.TB, s store.Store, id int64, ref string, at time.Time) {
	t.Helper()
	Settle(t, s, id, store.Outcome{Status: store.StatusSent, Ref: ref, At: at, Attempt: true})
}

// MarkFailed records that the due row id failed for good with errMsg.
func MarkFailed(t testing.TB, s store.Store, id int64, errMsg string) {
	t.Helper()
	Settle(t, s, id, store.Outcome{Status: store.StatusFailed, Error: errMsg, At: time.Now(), Attempt: true})
}

// Phrase is the word condition of a phrase (or one word).
func Phrase(words ...string) story.WordFilter { return story.WordFilter{Phrase: words} }

// Prefix is the word condition of words whose last one is a prefix.
func Prefix(words ...string) story.WordFilter {
	return story.WordFilter{Phrase: words, Prefix: true}
}

// All is met when every part is.
func All(parts ...story.WordFilter) story.WordFilter { return story.WordFilter{All: parts} }

// Any is met when one part is.
func Any(parts ...story.WordFilter) story.WordFilter { return story.WordFilter{Any: parts} }

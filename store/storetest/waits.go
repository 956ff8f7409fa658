package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// testWaits: a row held by a huge Retry-After can be sent now (Retry lifts
// the row's wait and its target's hold), cancelled, or brought forward with
// every other wait past a ceiling (ClampWaits).
func testWaits(t *testing.T, s store.Store) {
	ctx := t.Context()
	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "hook", Kind: store.KindHealth, Text: "one"},
		{Target: "hook", Kind: store.KindHealth, Text: "two"},
		{Target: "other", Kind: store.KindHealth, Text: "three"},
	})
	check(t, err)
	one, two, three := out[0].ID, out[1].ID, out[2].ID
	now := time.Now().Truncate(time.Millisecond)
	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// A 429 with Retry-After years away, as an older wirewatch stored it.
	lanes, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: owner, TTL: time.Minute, Lanes: 10, Rows: 10})
	check(t, err)
	for _, l := range lanes {
		hold := store.Hold{}
		for _, d := range l.Due {
			_, err := s.Settle(ctx, l.Target, l.Lease, time.Minute, store.Outcome{IDs: []int64{d.ID}, Status: store.StatusPending,
				Next: far, Attempt: true, Error: "status 429", At: now, Waiting: "Retry-After 99999999s"})
			check(t, err)
			hold = store.Hold{Until: far, Reason: "Retry-After 99999999s"}
		}
		check(t, s.ReleaseLane(ctx, l.Target, l.Lease, hold))
	}
	if due := Due(t, s, later()); len(due) != 0 {
		t.Fatalf("due before = %v", deliveryIDs(due))
	}

	// Retry now: the row is due and its lane can be claimed at once.
	check(t, s.Retry(ctx, one))
	lanes, err = s.ClaimLanes(ctx, store.LaneClaim{Owner: owner, TTL: time.Minute, Lanes: 10, Rows: 10})
	check(t, err)
	if len(lanes) != 1 || lanes[0].Target != "hook" || len(lanes[0].Due) != 1 || lanes[0].Due[0].ID != one || lanes[0].Due[0].Waiting != "" {
		t.Fatalf("after Retry of a pending row: lanes = %+v, want hook with row %d", lanes, one)
	}
	check(t, s.ReleaseLane(ctx, "hook", lanes[0].Lease, store.Hold{}))

	// Cancel: pending becomes failed with the reason; twice is a conflict.
	check(t, s.Cancel(ctx, two, "cancelled from the API"))
	failed := byStatus(t, s, store.StatusFailed)
	if len(failed) != 1 || failed[0].ID != two || failed[0].LastError != "cancelled from the API" {
		t.Errorf("after Cancel: failed = %+v", failed)
	}
	if err := s.Cancel(ctx, two, "again"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Cancel of a failed row = %v, want ErrConflict", err)
	}
	if err := s.Cancel(ctx, 9999, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Cancel(9999) = %v, want ErrNotFound", err)
	}

	// ClampWaits brings the other target's wait and hold forward.
	ceiling := now.Add(time.Hour)
	n, err := s.ClampWaits(ctx, ceiling)
	check(t, err)
	if n != 2 {
		t.Errorf("ClampWaits changed %d, want the row and the hold of %q", n, "other")
	}
	for _, d := range byStatus(t, s, store.StatusPending) {
		if d.ID == three && !d.NextAttempt.Equal(ceiling) {
			t.Errorf("row %d due %v, want %v", d.ID, d.NextAttempt, ceiling)
		}
	}
	if at, ok, err := s.NextDue(ctx); err != nil || !ok || at.After(ceiling) {
		t.Errorf("NextDue = %v, %v, %v; want by %v", at, ok, err, ceiling)
	}
	if n, err := s.ClampWaits(ctx, ceiling); err != nil || n != 0 {
		t.Errorf("second ClampWaits = %d, %v; want 0", n, err)
	}
}

package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// testDashboardCounts holds MatchDays to store.AlertDefinition, and checks
// the lookups the "why / why not" page and the preview's rate need.
func testDashboardCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	if at, err := s.OldestFetch(ctx); err != nil || !at.IsZero() {
		t.Fatalf("OldestFetch of an empty store = %v, %v; want zero", at, err)
	}
	for _, r := range []store.Rule{
		{Name: "instant", Query: "x", Notify: []string{"hook"}, Origin: store.OriginAPI},
		{Name: "digesty", Query: "x", Notify: []string{"hook"}, Digest: "daily", Origin: store.OriginAPI},
	} {
		_, err := s.AddRule(ctx, r)
		check(t, err)
	}
	now := time.Now()
	plan := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		var ds []store.Delivery
		for i := range fresh {
			st := &fresh[i]
			ms = append(ms, store.Match{StoryID: st.ID, Rule: "instant", Terms: []string{"x"}})
			d := store.Delivery{Target: "hook", StoryID: st.ID, DedupKey: st.DedupKey(), Rules: []string{"instant"}}
			switch st.ID {
			case "a1":
				st.Cluster, d.Cluster = "k1", "k1"
			case "a2": // a syndicated copy, threaded under a1's alert
				st.Cluster = "k1"
				d.Kind, d.Cluster = store.KindFollowUp, "k1"
			case "a3", "a4":
				ms = append(ms, store.Match{StoryID: st.ID, Rule: "digesty"})
			}
			if st.ID != "a4" { // a4 came on a first fetch: held back, nothing queued
				ds = append(ds, d)
			}
		}
		return ms, ds
	}
	ingest(t, s, 0, plan, mkStory("a1", "x", now), mkStory("a2", "x", now), mkStory("a3", "x", now),
		mkStory("a4", "x", now), mkStory("a5", "x", now))
	for _, d := range Due(t, s, later()) {
		switch d.StoryID {
		case "a3":
			MarkFailed(t, s, d.ID, "status 500")
		case "a5":
			MarkSent(t, s, d.ID, "ref", now)
		}
	}

	ms, err := s.StoryMatches(ctx, "a3")
	check(t, err)
	if len(ms) != 2 || ms[0].Rule != "digesty" || ms[1].Rule != "instant" || !slices.Equal(ms[1].Terms, []string{"x"}) {
		t.Fatalf("StoryMatches(a3) = %+v, want digesty and instant [x]", ms)
	}
	if d := ms[0].At.Sub(now); d < -time.Minute || d > time.Minute {
		t.Errorf("match At = %v, want about %v", ms[0].At, now)
	}
	day := ms[0].At.UTC().Format(time.DateOnly)
	got, err := s.MatchDays(ctx, now.Add(-time.Hour))
	check(t, err)
	// instant: cluster k1 once (pending alert and its follow-up), a5 sent;
	// a3 failed and a4 sent nothing. digesty: both stories its digest carries.
	want := []store.AlertDay{{Rule: "digesty", Day: day, Alerts: 2}, {Rule: "instant", Day: day, Alerts: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MatchDays = %+v, want %+v", got, want)
	}
	if got, err := s.MatchDays(ctx, now.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("MatchDays(future) = %+v, %v; want none", got, err)
	}

	if at, err := s.OldestFetch(ctx); err != nil || at.Sub(now) < -time.Minute || at.Sub(now) > time.Minute {
		t.Errorf("OldestFetch = %v, %v; want about %v", at, err, now)
	}
	ds, err := s.Deliveries(ctx, store.DeliveryQuery{StoryID: "a2"})
	check(t, err)
	if len(ds) != 1 || ds[0].StoryID != "a2" || ds[0].Kind != store.KindFollowUp {
		t.Errorf("Deliveries(story a2) = %+v, want its follow-up", ds)
	}
	cl, err := s.Stories(ctx, store.StoryQuery{Cluster: "k1"})
	check(t, err)
	if got := ids(cl); len(got) != 2 || !slices.Contains(got, "a1") || !slices.Contains(got, "a2") {
		t.Errorf("Stories(cluster k1) = %v, want a1 and a2", got)
	}
}

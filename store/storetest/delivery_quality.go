package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// testClusterFollowUps: plan sets clusters, which are saved; a follow-up finds
// the first alert of its cluster to its target, and becomes a pending alert
// for a target that never had the cluster.
func testClusterFollowUps(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	first := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		fresh[0].Cluster = "c1"
		return nil, []store.Delivery{{Target: "slack:#a", StoryID: fresh[0].ID, DedupKey: "u1", Cluster: "c1"}}
	}
	ingest(t, s, 0, first, mkStory("c1", "first", now))
	got, err := s.Story(ctx, "c1")
	check(t, err)
	if got.Cluster != "c1" {
		t.Fatalf("saved cluster = %q, want c1", got.Cluster)
	}
	second := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		fresh[0].Cluster = "c1"
		return nil, []store.Delivery{
			{Target: "slack:#a", Kind: store.KindFollowUp, StoryID: fresh[0].ID, DedupKey: "u2", Cluster: "c1"},
			{Target: "slack:#b", Kind: store.KindFollowUp, StoryID: fresh[0].ID, DedupKey: "u2", Cluster: "c1", Status: store.StatusFolded},
		}
	}
	ingest(t, s, 0, second, mkStory("c2", "second", now))
	due := Due(t, s, later())
	if len(due) != 3 {
		t.Fatalf("due = %+v, want the alert, its follow-up, and an alert to #b", due)
	}
	if fu := due[1]; fu.Kind != store.KindFollowUp || fu.ParentID != due[0].ID || fu.Target != "slack:#a" {
		t.Errorf("follow-up = %+v, want parent %d", fu, due[0].ID)
	}
	if b := due[2]; b.Kind != "" || b.ParentID != 0 || b.Target != "slack:#b" || b.Status != store.StatusPending {
		t.Errorf("first story of the cluster for #b = %+v, want a pending alert", b)
	}
	third := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		return nil, []store.Delivery{{Target: "slack:#b", Kind: store.KindFollowUp, StoryID: fresh[0].ID, DedupKey: "u3", Cluster: "c1", Status: store.StatusFolded}}
	}
	ingest(t, s, 0, third, mkStory("c3", "third", now))
	if folded := byStatus(t, s, store.StatusFolded); len(folded) != 1 || folded[0].ParentID != due[2].ID {
		t.Errorf("folded = %+v, want one row under %d", folded, due[2].ID)
	}

	// A first alert that went out inside a flood summary is still the
	// cluster's parent: a later copy stays a follow-up, not a new alert.
	summary := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		fresh[0].Cluster = "c9"
		return nil, []store.Delivery{{Target: "slack:#z", StoryID: fresh[0].ID, DedupKey: "u9", Cluster: "c9"}}
	}
	ingest(t, s, 0, summary, mkStory("c9", "flooded first", now))
	var firstID int64
	for _, d := range byStatus(t, s, store.StatusPending) {
		if d.Target == "slack:#z" {
			firstID = d.ID
		}
	}
	Settle(t, s, firstID, store.Outcome{Status: store.StatusSummarised, At: now, Attempt: true})
	copyPlan := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		return nil, []store.Delivery{{Target: "slack:#z", Kind: store.KindFollowUp, StoryID: fresh[0].ID, DedupKey: "u10", Cluster: "c9", Status: store.StatusFolded}}
	}
	ingest(t, s, 0, copyPlan, mkStory("c10", "syndicated copy", now))
	for _, d := range byStatus(t, s, store.StatusFolded) {
		if d.StoryID == "c10" && d.ParentID != firstID {
			t.Errorf("copy of a summarised alert: parent %d, want %d", d.ParentID, firstID)
		}
	}
	for _, d := range byStatus(t, s, store.StatusPending) {
		if d.StoryID == "c10" {
			t.Errorf("copy of a summarised alert became a new alert: %+v", d)
		}
	}
}

// testFloodControl: a lane says how many instant alerts its target had in
// the last hour and when its last summary went; rows held for a summary wait
// without an attempt, and a summary closes them and moves the summary slot.
func testFloodControl(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	ingest(t, s, 0, nil, mkStory("f1", "one", now), mkStory("f2", "two", now), mkStory("f3", "three", now))
	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "hook", StoryID: "f1", DedupKey: "1"},
		{Target: "hook", StoryID: "f2", DedupKey: "2"},
		{Target: "hook", StoryID: "f3", DedupKey: "3"},
		{Target: "other", StoryID: "f1", DedupKey: "1"},
		{Target: "hook", Kind: store.KindHealth, Text: "down"},
	})
	check(t, err)
	MarkSent(t, s, out[0].ID, "r1", now)
	MarkSent(t, s, out[3].ID, "r2", now)
	MarkSent(t, s, out[4].ID, "r3", now)
	claim := store.LaneClaim{Owner: "w", TTL: time.Minute, Lanes: 10, Rows: 10}
	lanes, err := s.ClaimLanes(ctx, claim)
	check(t, err)
	if len(lanes) != 1 || lanes[0].Target != "hook" || lanes[0].SentLastHour != 1 || !lanes[0].LastSummary.IsZero() {
		t.Fatalf("lanes = %+v, want hook with 1 instant alert sent (health is not one) and no summary yet", lanes)
	}
	l := lanes[0]
	until := now.Add(15 * time.Minute).Truncate(time.Millisecond).UTC()
	held := []int64{out[1].ID, out[2].ID}
	lease, err := s.Settle(ctx, "hook", l.Lease, time.Minute, store.Outcome{
		IDs: held, Status: store.StatusPending, Next: until, Waiting: "flood control: next summary at 09:15",
	})
	check(t, err)
	check(t, s.ReleaseLane(ctx, "hook", lease, store.Hold{}))
	if lanes, _ := s.ClaimLanes(ctx, claim); len(lanes) != 0 {
		t.Errorf("rows held for a summary are due: %+v", lanes)
	}
	for _, d := range byStatus(t, s, store.StatusPending) {
		if d.Attempts != 0 || !d.NextAttempt.Equal(until) || d.Waiting == "" {
			t.Errorf("held row = %+v, want no attempt, due at %v, with the reason", d, until)
		}
	}
	// The summary goes out under a later lease of the lane: both rows
	// close with its reference, and the lane remembers when.
	if _, err := s.Enqueue(ctx, []store.Delivery{{Target: "hook", Kind: store.KindHealth, Text: "again"}}); err != nil {
		t.Fatal(err)
	}
	lanes, err = s.ClaimLanes(ctx, claim)
	check(t, err)
	if len(lanes) != 1 {
		t.Fatalf("lanes = %+v", lanes)
	}
	lease, err = s.Settle(ctx, "hook", lanes[0].Lease, time.Minute, store.Outcome{
		IDs: held, Status: store.StatusSummarised, Ref: "sum-1", At: until, Attempt: true,
	})
	check(t, err)
	check(t, s.ReleaseLane(ctx, "hook", lease, store.Hold{}))
	sum := byStatus(t, s, store.StatusSummarised)
	if len(sum) != 2 || sum[0].Ref != "sum-1" || !sum[0].Sent.Equal(until) {
		t.Errorf("summarised = %+v", sum)
	}
	lanes, err = s.ClaimLanes(ctx, claim)
	check(t, err)
	if len(lanes) != 1 || !lanes[0].LastSummary.Equal(until) {
		t.Errorf("lane after a summary = %+v, want LastSummary %v", lanes, until)
	}
	if n, _ := s.OutboxDepth(ctx); n != 1 {
		t.Errorf("outbox depth after summary = %d, want 1 (the health row)", n)
	}
}

// testDigests: RuleStories reads a rule's matches of a period; the digest
// state round-trips.
func testDigests(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	plan := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		for _, st := range fresh {
			ms = append(ms, store.Match{StoryID: st.ID, Rule: "daily"})
		}
		return ms, nil
	}
	ingest(t, s, 0, plan, mkStory("g1", "old", now.Add(-2*time.Hour)), mkStory("g2", "new", now.Add(-time.Hour)), mkStory("g3", "newest", now))
	got, total, err := s.RuleStories(ctx, "daily", now.Add(-time.Minute), later(), 2)
	check(t, err)
	if total != 3 || !slices.Equal(ids(got), []string{"g3", "g2"}) {
		t.Errorf("RuleStories = %v of %d, want [g3 g2] of 3", ids(got), total)
	}
	if got, total, _ := s.RuleStories(ctx, "daily", later(), later().Add(time.Hour), 10); total != 0 || len(got) != 0 {
		t.Errorf("RuleStories of a later period = %v, %d", ids(got), total)
	}
	last, err := s.DigestLast(ctx, "daily")
	check(t, err)
	if !last.IsZero() {
		t.Errorf("DigestLast of a new rule = %v", last)
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	digest := []store.Delivery{{Target: "hook", Kind: store.KindDigest, StoryIDs: []string{"g3"}, DedupKey: "digest:daily:1"}}
	if ok, err := s.AdvanceDigest(ctx, "daily", time.Time{}, at, nil); err != nil || !ok {
		t.Fatalf("first AdvanceDigest = %v, %v; want true", ok, err)
	}
	if ok, err := s.AdvanceDigest(ctx, "daily", time.Time{}, at.Add(time.Hour), digest); err != nil || ok {
		t.Errorf("AdvanceDigest of a rule that has a period from zero = %v, %v; want false", ok, err)
	}
	if ok, err := s.AdvanceDigest(ctx, "daily", at, at.Add(24*time.Hour), digest); err != nil || !ok {
		t.Errorf("AdvanceDigest from the last end = %v, %v; want true", ok, err)
	}
	// A second worker that read the old end moves nothing and queues nothing.
	if ok, err := s.AdvanceDigest(ctx, "daily", at, at.Add(24*time.Hour), digest); err != nil || ok {
		t.Errorf("AdvanceDigest from a stale end = %v, %v; want false", ok, err)
	}
	if last, _ := s.DigestLast(ctx, "daily"); !last.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("DigestLast = %v", last)
	}
	if ds := byStatus(t, s, store.StatusPending); len(ds) != 1 || ds[0].Kind != store.KindDigest {
		t.Errorf("queued digests = %+v, want one", ds)
	}
}

// testRuleNamesNotReused: a rule made after the newest one was deleted gets
// a new id and name, so it inherits no match counts.
func testRuleNamesNotReused(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, err := s.AddRule(ctx, store.Rule{Query: "a", Notify: []string{"hook"}, Origin: store.OriginChat})
	check(t, err)
	b, err := s.AddRule(ctx, store.Rule{Query: "b", Notify: []string{"hook"}, Origin: store.OriginChat})
	check(t, err)
	check(t, s.DeleteRule(ctx, b.ID))
	c, err := s.AddRule(ctx, store.Rule{Query: "c", Notify: []string{"hook"}, Origin: store.OriginChat})
	check(t, err)
	if c.ID == b.ID || c.Name == b.Name || c.Name == a.Name {
		t.Errorf("rules %q, %q (deleted), then %q: a deleted rule's id or name came back", a.Name, b.Name, c.Name)
	}
}

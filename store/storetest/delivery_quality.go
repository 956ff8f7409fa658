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
			{Target: "slack:#a", Kind: "follow_up", StoryID: fresh[0].ID, DedupKey: "u2", Cluster: "c1"},
			{Target: "slack:#b", Kind: "follow_up", StoryID: fresh[0].ID, DedupKey: "u2", Cluster: "c1", Status: store.StatusFolded},
		}
	}
	ingest(t, s, 0, second, mkStory("c2", "second", now))
	due, err := s.Due(ctx, later(), 10)
	check(t, err)
	if len(due) != 3 {
		t.Fatalf("due = %+v, want the alert, its follow-up, and an alert to #b", due)
	}
	if fu := due[1]; fu.Kind != "follow_up" || fu.ParentID != due[0].ID || fu.Target != "slack:#a" {
		t.Errorf("follow-up = %+v, want parent %d", fu, due[0].ID)
	}
	if b := due[2]; b.Kind != "" || b.ParentID != 0 || b.Target != "slack:#b" || b.Status != store.StatusPending {
		t.Errorf("first story of the cluster for #b = %+v, want a pending alert", b)
	}
	third := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		return nil, []store.Delivery{{Target: "slack:#b", Kind: "follow_up", StoryID: fresh[0].ID, DedupKey: "u3", Cluster: "c1", Status: store.StatusFolded}}
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
	check(t, s.MarkSummarised(ctx, []int64{firstID}, "", now))
	copyPlan := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		return nil, []store.Delivery{{Target: "slack:#z", Kind: "follow_up", StoryID: fresh[0].ID, DedupKey: "u10", Cluster: "c9", Status: store.StatusFolded}}
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

// testFloodControl: Postpone moves pending rows without counting attempts,
// MarkSummarised closes them, SentAlerts counts instant alerts per target.
func testFloodControl(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	ingest(t, s, 0, nil, mkStory("f1", "one", now), mkStory("f2", "two", now), mkStory("f3", "three", now))
	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "hook", StoryID: "f1", DedupKey: "1"},
		{Target: "hook", StoryID: "f2", DedupKey: "2"},
		{Target: "hook", StoryID: "f3", DedupKey: "3"},
		{Target: "other", StoryID: "f1", DedupKey: "1"},
		{Target: "hook", Kind: "health", Text: "down"},
	})
	check(t, err)
	check(t, s.MarkSent(ctx, out[0].ID, "r1", now))
	check(t, s.MarkSent(ctx, out[3].ID, "r2", now))
	check(t, s.MarkSent(ctx, out[4].ID, "r3", now))
	if n, err := s.SentAlerts(ctx, "hook", now.Add(-time.Hour)); err != nil || n != 1 {
		t.Errorf("SentAlerts(hook) = %d, %v; want 1 (health is not an instant alert)", n, err)
	}
	if n, _ := s.SentAlerts(ctx, "hook", now.Add(time.Hour)); n != 0 {
		t.Errorf("SentAlerts since the future = %d", n)
	}
	until := now.Add(15 * time.Minute)
	check(t, s.Postpone(ctx, []int64{out[1].ID, out[2].ID, out[0].ID}, until))
	if due, _ := s.Due(ctx, later(), 10); len(due) != 0 {
		t.Errorf("postponed rows still due: %v", deliveryIDs(due))
	}
	due, err := s.Due(ctx, until.Add(time.Second), 10)
	check(t, err)
	if !slices.Equal(deliveryIDs(due), []int64{out[1].ID, out[2].ID}) || due[0].Attempts != 0 {
		t.Errorf("due after postponement = %+v", due)
	}
	if last, err := s.LastSummary(ctx, "hook"); err != nil || !last.IsZero() {
		t.Errorf("LastSummary before any = %v, %v; want zero", last, err)
	}
	check(t, s.MarkSummarised(ctx, []int64{out[1].ID, out[2].ID}, "sum-1", until))
	if last, err := s.LastSummary(ctx, "hook"); err != nil || !last.Equal(until.Truncate(time.Millisecond)) {
		t.Errorf("LastSummary = %v, %v; want %v", last, err, until)
	}
	if last, _ := s.LastSummary(ctx, "other"); !last.IsZero() {
		t.Errorf("LastSummary of another target = %v", last)
	}
	sum := byStatus(t, s, store.StatusSummarised)
	if len(sum) != 2 || sum[0].Ref != "sum-1" {
		t.Errorf("summarised = %+v", sum)
	}
	if n, _ := s.OutboxDepth(ctx); n != 0 {
		t.Errorf("outbox depth after summary = %d", n)
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
	check(t, s.SetDigestLast(ctx, "daily", at))
	check(t, s.SetDigestLast(ctx, "daily", at.Add(24*time.Hour)))
	if last, _ := s.DigestLast(ctx, "daily"); !last.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("DigestLast = %v", last)
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

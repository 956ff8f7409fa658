// Package storetest is the conformance suite every store.Store implementation
// runs: the embedded SQLite store now, a PostgreSQL store later. The tests say,
// in the terms of the product contract, what the rest of the road may rely on:
// a story is new once, a target hears of a story once, nothing pending is lost
// across restarts, and the delivery log shows what happened.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Opener returns a new Store on one database each time it is called; the
// suite closes every store it gets from one.
type Opener func() store.Store

// Run runs the conformance tests that need one store each. open must return a
// new, empty store and arrange for it to be closed when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"Sources", testSources},
		{"SourceState", testSourceState},
		{"Stories7d", testStories7d},
		{"SyncConfigSources", testSyncConfigSources},
		{"Rules", testRules},
		{"SyncConfigRules", testSyncConfigRules},
		{"IngestNewAndEdited", testIngestNewAndEdited},
		{"IngestRoundTrip", testIngestRoundTrip},
		{"IngestDedupAcrossSources", testIngestDedupAcrossSources},
		{"IngestDedupInBatch", testIngestDedupInBatch},
		{"IngestDedupAnyStatus", testIngestDedupAnyStatus},
		{"IngestRollsBack", testIngestRollsBack},
		{"MatchCounts", testMatchCounts},
		{"StoriesQuery", testStoriesQuery},
		{"StoriesFTS", testStoriesFTS},
		{"Enqueue", testEnqueue},
		{"DueOrdering", testDueOrdering},
		{"DueFillsStories", testDueFillsStories},
		{"DeliveryLifecycle", testDeliveryLifecycle},
		{"Deliveries", testDeliveries},
		{"Prune", testPrune},
		{"PruneManyBatches", testPruneManyBatches},
		{"ConcurrentIngest", testConcurrentIngest},
		{"CanceledContext", testCanceledContext},
		{"ClusterFollowUps", testClusterFollowUps},
		{"FloodControl", testFloodControl},
		{"Digests", testDigests},
		{"RuleNamesNotReused", testRuleNamesNotReused},
		{"FetchLog", testFetchLog},
		{"DashboardCounts", testDashboardCounts},
		{"Waits", testWaits},
	}
	tests = append(tests, claimTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// RunDurable runs the tests that close a store and open the same database
// again, as a restart does. newDatabase returns an Opener on a new, empty
// database each time it is called.
func RunDurable(t *testing.T, newDatabase func(t *testing.T) Opener) {
	t.Run("RestartKeepsPending", func(t *testing.T) { testRestart(t, newDatabase(t)) })
}

// --- helpers ---

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mkStory makes a story whose canonical URL is https://example.com/<id>.
func mkStory(id, title string, published time.Time) story.Story {
	return story.Story{
		ID:           id,
		Title:        title,
		URL:          "https://example.com/" + id + "?utm_source=x",
		CanonicalURL: "https://example.com/" + id,
		Published:    published,
	}
}

// alertTo is a plan that matches every fresh story to rule "r1" and alerts
// each target about it, deduplicated by the story's DedupKey.
func alertTo(targets ...string) simplePlan {
	return func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		var ds []store.Delivery
		for _, st := range fresh {
			ms = append(ms, store.Match{StoryID: st.ID, Rule: "r1", Terms: []string{"t"}})
			for _, tg := range targets {
				ds = append(ds, store.Delivery{
					Target: tg, StoryID: st.ID, DedupKey: st.DedupKey(),
					Rules: []string{"r1"}, Terms: []string{"t"},
				})
			}
		}
		return ms, ds
	}
}

func addSource(t *testing.T, s store.Store, name string) store.Source {
	t.Helper()
	src, err := s.AddSource(t.Context(), store.Source{
		Name: name, URL: "https://feeds.example.com/" + strings.ReplaceAll(name, " ", "-"), Origin: store.OriginAPI,
	})
	check(t, err)
	return src
}

// simplePlan is a plan that needs nothing from the ingest transaction.
type simplePlan = func(fresh []story.Story) ([]store.Match, []store.Delivery)

func ingest(t *testing.T, s store.Store, sourceID int64, plan simplePlan, stories ...story.Story) store.IngestResult {
	t.Helper()
	res, err := s.Ingest(t.Context(), sourceID, stories, Plan(plan))
	check(t, err)
	return res
}

func ids(stories []story.Story) []string {
	out := make([]string, len(stories))
	for i, st := range stories {
		out[i] = st.ID
	}
	return out
}

func deliveryIDs(ds []store.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// later is a time every row queued now is due by.
func later() time.Time { return time.Now().Add(time.Minute) }

func byStatus(t *testing.T, s store.Store, status string) []store.Delivery {
	t.Helper()
	ds, err := s.Deliveries(t.Context(), store.DeliveryQuery{Status: status})
	check(t, err)
	return ds
}

// --- sources ---

func testPing(t *testing.T, s store.Store) {
	check(t, s.Ping(t.Context()))
}

func testSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	a, err := s.AddSource(ctx, store.Source{
		Name: "Feed A", URL: "https://a.example.com/rss", Interval: 10 * time.Minute,
		Backfill: 3, Origin: store.OriginChat, AddedBy: "U1",
	})
	check(t, err)
	if a.ID == 0 || a.Created.Before(before) || a.Created.Location() != time.UTC {
		t.Fatalf("AddSource = %+v, want an id and a UTC creation time", a)
	}
	b, err := s.AddSource(ctx, store.Source{Name: "Feed B", URL: "https://b.example.com/rss", Schedule: "*/5 * * * *"})
	check(t, err)

	for _, dup := range []store.Source{
		{Name: "Feed A", URL: "https://other.example.com/rss"},
		{Name: "Feed C", URL: "https://a.example.com/rss"},
	} {
		if _, err := s.AddSource(ctx, dup); !errors.Is(err, store.ErrExists) {
			t.Errorf("AddSource(%s, %s) error = %v, want ErrExists", dup.Name, dup.URL, err)
		}
	}

	got, err := s.Source(ctx, a.ID)
	check(t, err)
	if !reflect.DeepEqual(got, a) {
		t.Errorf("Source = %+v\nwant %+v", got, a)
	}
	if _, err := s.Source(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Source(9999) error = %v, want ErrNotFound", err)
	}

	a.Name, a.URL, a.Schedule, a.Backfill, a.Paused = "Feed A2", "https://a2.example.com/rss", "@hourly", 1, true
	check(t, s.UpdateSource(ctx, a))
	got, err = s.Source(ctx, a.ID)
	check(t, err)
	if got.Name != "Feed A2" || got.URL != a.URL || got.Schedule != "@hourly" || got.Backfill != 1 || !got.Paused {
		t.Errorf("after UpdateSource: %+v", got)
	}
	b.Name = "Feed A2"
	if err := s.UpdateSource(ctx, b); !errors.Is(err, store.ErrExists) {
		t.Errorf("UpdateSource to a taken name: error = %v, want ErrExists", err)
	}
	if err := s.UpdateSource(ctx, store.Source{ID: 9999, Name: "x", URL: "https://x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateSource(9999) error = %v, want ErrNotFound", err)
	}

	all, err := s.Sources(ctx)
	check(t, err)
	if len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Fatalf("Sources = %+v, want A and B by id", all)
	}

	check(t, s.RemoveSource(ctx, a.ID))
	if err := s.RemoveSource(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveSource twice: error = %v, want ErrNotFound", err)
	}
	all, err = s.Sources(ctx)
	check(t, err)
	if len(all) != 1 || all[0].ID != b.ID {
		t.Errorf("Sources after remove = %+v", all)
	}
}

func testSourceState(t *testing.T, s store.Store) {
	ctx := t.Context()
	src := addSource(t, s, "Feed")
	berlin := time.FixedZone("CET", 3600)
	st := store.SourceState{
		ETag:          `"abc"`,
		LastModified:  "Sat, 28 Nov 2026 09:00:00 GMT",
		LastFetch:     time.Date(2026, 11, 28, 10, 0, 0, 123456789, berlin),
		LastSuccess:   time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
		LastStatus:    503,
		LastError:     "status 503",
		Failures:      2,
		FailingSince:  time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC),
		NextFetch:     time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC),
		Primed:        true,
		HealthAlerted: true,
	}
	check(t, s.SaveSourceState(ctx, src.ID, st, store.Lease{}))
	got, err := s.Source(ctx, src.ID)
	check(t, err)
	want := st
	want.LastFetch = time.Date(2026, 11, 28, 9, 0, 0, 123000000, time.UTC)
	if !reflect.DeepEqual(got.State, want) {
		t.Errorf("State = %+v\nwant  %+v", got.State, want)
	}
	if err := s.SaveSourceState(ctx, 9999, st, store.Lease{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SaveSourceState(9999) error = %v, want ErrNotFound", err)
	}

	// Zero times stay zero.
	check(t, s.SaveSourceState(ctx, src.ID, store.SourceState{}, store.Lease{}))
	got, err = s.Source(ctx, src.ID)
	check(t, err)
	if !reflect.DeepEqual(got.State, store.SourceState{}) {
		t.Errorf("State after reset = %+v, want zero", got.State)
	}
}

func testStories7d(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := addSource(t, s, "A")
	b := addSource(t, s, "B")
	now := time.Now()
	mk := func(id string, fetched time.Time) story.Story {
		st := mkStory(id, "t "+id, fetched)
		st.Fetched = fetched
		return st
	}
	ingest(t, s, a.ID, nil, mk("a1", now.Add(-time.Hour)), mk("a2", now.Add(-6*24*time.Hour)), mk("a3", now.Add(-8*24*time.Hour)))
	all, err := s.Sources(ctx)
	check(t, err)
	got := map[string]int{}
	for _, src := range all {
		got[src.Name] = src.Stories7d
	}
	if want := map[string]int{"A": 2, "B": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("Stories7d = %v, want %v", got, want)
	}
	one, err := s.Source(ctx, a.ID)
	check(t, err)
	if one.Stories7d != 2 {
		t.Errorf("Source(A).Stories7d = %d, want 2", one.Stories7d)
	}
	one, err = s.Source(ctx, b.ID)
	check(t, err)
	if one.Stories7d != 0 {
		t.Errorf("Source(B).Stories7d = %d, want 0", one.Stories7d)
	}
}

func testSyncConfigSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	chat, err := s.AddSource(ctx, store.Source{Name: "chatty", URL: "https://chat.example.com/rss", Origin: store.OriginChat, AddedBy: "U1"})
	check(t, err)

	got, err := s.SyncConfigSources(ctx, []store.Source{
		{Name: "A", URL: "https://a.example.com/rss", Interval: 5 * time.Minute},
		{Name: "B", URL: "https://b.example.com/rss", Backfill: 2},
	})
	check(t, err)
	byName := map[string]store.Source{}
	for _, src := range got {
		byName[src.Name] = src
	}
	if len(got) != 3 || byName["A"].Origin != store.OriginConfig || byName["B"].Backfill != 2 || byName["chatty"].Origin != store.OriginChat {
		t.Fatalf("SyncConfigSources = %+v", got)
	}
	a := byName["A"]
	check(t, s.SaveSourceState(ctx, a.ID, store.SourceState{ETag: "e1", LastStatus: 200, Primed: true}, store.Lease{}))

	// A changes interval, B goes; A keeps its id and fetch state, the chat source stays.
	got, err = s.SyncConfigSources(ctx, []store.Source{{Name: "A", URL: "https://a.example.com/rss", Interval: 10 * time.Minute, Schedule: "@every 10m"}})
	check(t, err)
	if len(got) != 2 || got[0].ID != chat.ID || got[1].ID != a.ID {
		t.Fatalf("after second sync: %+v", got)
	}
	a2 := got[1]
	if a2.Interval != 10*time.Minute || a2.Schedule != "@every 10m" || a2.State.ETag != "e1" || !a2.State.Primed || a2.State.LastStatus != 200 {
		t.Errorf("A after sync = %+v, want new interval and kept state", a2)
	}

	// A new URL is a new feed: the old validators and primed flag go.
	got, err = s.SyncConfigSources(ctx, []store.Source{{Name: "A", URL: "https://a.example.com/atom"}})
	check(t, err)
	if a3 := got[1]; a3.URL != "https://a.example.com/atom" || a3.State.ETag != "" || a3.State.Primed || a3.State.LastStatus != 200 {
		t.Errorf("A after URL change = %+v", a3)
	}

	// A config source may not take a chat source's name; nothing changes.
	_, err = s.SyncConfigSources(ctx, []store.Source{{Name: "chatty", URL: "https://x.example.com/rss"}})
	if !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "chatty") {
		t.Errorf("sync over a chat source: error = %v, want ErrExists naming it", err)
	}
	all, err := s.Sources(ctx)
	check(t, err)
	if len(all) != 2 {
		t.Errorf("Sources after failed sync = %+v, want unchanged", all)
	}
}

// --- rules ---

func testRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := store.Rule{
		Query: "nvidia AND china", Notify: []string{"hook", "team-slack:#ai"}, Digest: "daily",
		Timezone: "Europe/Berlin", Sources: []string{"A"}, FollowUps: "thread", MinSources: 2,
		Window: 2 * time.Hour, Origin: store.OriginChat, Author: "U1", Channel: "team-slack:#ai",
	}
	got, err := s.AddRule(ctx, r)
	check(t, err)
	if got.ID == 0 || got.Name != fmt.Sprintf("w%d", got.ID) || got.Created.IsZero() {
		t.Fatalf("AddRule with no name = %+v, want name w<ID>", got)
	}
	stored, err := s.Rule(ctx, got.ID)
	check(t, err)
	if !reflect.DeepEqual(stored, got) {
		t.Errorf("Rule = %+v\nwant %+v", stored, got)
	}

	named, err := s.AddRule(ctx, store.Rule{Name: "chips", Query: "chip*", Notify: []string{"hook"}, Origin: store.OriginAPI})
	check(t, err)
	if named.Name != "chips" {
		t.Errorf("AddRule name = %q", named.Name)
	}
	if _, err := s.AddRule(ctx, store.Rule{Name: "chips", Query: "x"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddRule with a taken name: error = %v, want ErrExists", err)
	}
	third, err := s.AddRule(ctx, store.Rule{Query: "third"})
	check(t, err)
	if third.Name != fmt.Sprintf("w%d", third.ID) {
		t.Errorf("third rule name = %q", third.Name)
	}

	stored.Query, stored.Notify, stored.Digest, stored.Paused, stored.Window = "nvidia", []string{"hook"}, "", true, 0
	stored.Sources, stored.MinSources = nil, 1
	check(t, s.UpdateRule(ctx, stored))
	again, err := s.Rule(ctx, stored.ID)
	check(t, err)
	if !reflect.DeepEqual(again, stored) {
		t.Errorf("after UpdateRule = %+v\nwant %+v", again, stored)
	}
	if err := s.UpdateRule(ctx, store.Rule{ID: 9999, Query: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateRule(9999) error = %v, want ErrNotFound", err)
	}

	all, err := s.Rules(ctx)
	check(t, err)
	if len(all) != 3 || all[0].ID != got.ID || all[1].ID != named.ID || all[2].ID != third.ID {
		t.Errorf("Rules = %+v, want the three by id", all)
	}
	check(t, s.DeleteRule(ctx, named.ID))
	if err := s.DeleteRule(ctx, named.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteRule twice: error = %v, want ErrNotFound", err)
	}
	if _, err := s.Rule(ctx, named.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Rule(deleted) error = %v, want ErrNotFound", err)
	}
}

func testSyncConfigRules(t *testing.T, s store.Store) {
	ctx := t.Context()
	chat, err := s.AddRule(ctx, store.Rule{Name: "mine", Query: "x", Origin: store.OriginChat, Channel: "c"})
	check(t, err)
	check(t, s.SyncConfigRules(ctx, []store.Rule{
		{Name: "nvidia-china", Query: "nvidia china", Notify: []string{"hook"}},
		{Name: "gone", Query: "soon"},
	}))
	check(t, s.SyncConfigRules(ctx, []store.Rule{
		{Name: "nvidia-china", Query: "nvidia (china OR beijing)", Notify: []string{"hook", "console"}, Digest: "hourly"},
	}))
	all, err := s.Rules(ctx)
	check(t, err)
	if len(all) != 2 || all[0].ID != chat.ID {
		t.Fatalf("Rules after sync = %+v", all)
	}
	nc := all[1]
	if nc.Name != "nvidia-china" || nc.Origin != store.OriginConfig || nc.Query != "nvidia (china OR beijing)" ||
		!slices.Equal(nc.Notify, []string{"hook", "console"}) || nc.Digest != "hourly" {
		t.Errorf("config rule = %+v", nc)
	}

	err = s.SyncConfigRules(ctx, []store.Rule{{Name: "mine", Query: "y"}})
	if !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "mine") {
		t.Errorf("sync over a chat rule: error = %v, want ErrExists naming it", err)
	}
	after, err := s.Rules(ctx)
	check(t, err)
	if !reflect.DeepEqual(after, all) {
		t.Errorf("failed sync changed rules: %+v", after)
	}
}

// --- ingest ---

func testIngestNewAndEdited(t *testing.T, s store.Store) {
	ctx := t.Context()
	src := addSource(t, s, "Wire")
	now := time.Now()
	var planned [][]string
	plan := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		planned = append(planned, ids(fresh))
		return alertTo("hook")(fresh)
	}

	res := ingest(t, s, src.ID, plan, mkStory("s2", "Alpha report", now), mkStory("s1", "First", now))
	if res != (store.IngestResult{Fresh: 2, Matches: 2, Deliveries: 2}) {
		t.Errorf("first ingest = %+v", res)
	}
	// s1 is edited, s3 is new, s2 is unchanged: only s3 is new.
	edited := mkStory("s1", "First, updated", now)
	edited.Summary = "more words"
	res = ingest(t, s, src.ID, plan, mkStory("s2", "Alpha report", now), edited, mkStory("s3", "Third", now))
	if res != (store.IngestResult{Fresh: 1, Matches: 1, Deliveries: 1}) {
		t.Errorf("second ingest = %+v", res)
	}
	// Nothing new: plan is not called.
	res = ingest(t, s, src.ID, plan, edited)
	if res != (store.IngestResult{}) {
		t.Errorf("third ingest = %+v", res)
	}
	if want := [][]string{{"s2", "s1"}, {"s3"}}; !reflect.DeepEqual(planned, want) {
		t.Errorf("plan saw %v, want %v (new stories in input order)", planned, want)
	}

	got, err := s.Story(ctx, "s1")
	check(t, err)
	if got.Title != "First, updated" || got.Summary != "more words" {
		t.Errorf("edited story = %+v", got)
	}
	found, err := s.Stories(ctx, store.StoryQuery{Words: words(Phrase("updated"))})
	check(t, err)
	if !slices.Equal(ids(found), []string{"s1"}) {
		t.Errorf("search for the edited title found %v", ids(found))
	}
	if _, err := s.Story(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Story(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Ingest(ctx, src.ID, []story.Story{{Title: "no id"}}, nil); err == nil {
		t.Error("Ingest of a story with no id: no error")
	}
	if n, err := s.OutboxDepth(ctx); err != nil || n != 3 {
		t.Errorf("OutboxDepth = %d, %v; want 3", n, err)
	}
}

func testIngestRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	src := addSource(t, s, "Reuters")
	berlin := time.FixedZone("CET", 3600)
	in := story.Story{
		ID:           "rt",
		GUID:         "guid-1",
		Title:        "Title",
		Summary:      "Summary",
		Content:      "Content",
		URL:          "https://example.com/a?utm_source=x",
		CanonicalURL: "https://example.com/a",
		Author:       "Ann, Bob",
		Categories:   []string{"Tech", "Chips"},
		Published:    time.Date(2026, 11, 28, 10, 0, 0, 987654321, berlin),
		Fetched:      time.Date(2026, 11, 28, 10, 5, 0, 1500000, berlin),
	}
	var fresh []story.Story
	ingest(t, s, src.ID, func(f []story.Story) ([]store.Match, []store.Delivery) {
		fresh = f
		return nil, nil
	}, in)
	want := in
	want.SourceID = src.ID
	want.Source = "Reuters"
	want.Published = time.Date(2026, 11, 28, 9, 0, 0, 987000000, time.UTC)
	want.Fetched = time.Date(2026, 11, 28, 9, 5, 0, 1000000, time.UTC)
	got, err := s.Story(ctx, "rt")
	check(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Story = %+v\nwant  %+v", got, want)
	}
	if got.Published.Location() != time.UTC || got.Fetched.Location() != time.UTC {
		t.Error("times are not UTC")
	}
	if len(fresh) != 1 || !reflect.DeepEqual(fresh[0], want) {
		t.Errorf("plan saw %+v\nwant %+v (the story as stored)", fresh, want)
	}

	// Missing times: Fetched is the ingest time, Published falls back to it.
	before := time.Now().Add(-time.Second)
	ingest(t, s, 0, nil, story.Story{ID: "bare", Title: "bare", Source: "Someone"})
	bare, err := s.Story(ctx, "bare")
	check(t, err)
	if bare.Fetched.Before(before) || !bare.Published.Equal(bare.Fetched) || bare.Source != "Someone" || bare.Categories != nil {
		t.Errorf("bare story = %+v", bare)
	}
}

func testIngestDedupAcrossSources(t *testing.T, s store.Store) {
	a := addSource(t, s, "A")
	b := addSource(t, s, "B")
	now := time.Now()
	one := mkStory("a-1", "Chip export rules", now)
	two := mkStory("b-1", "Chip export rules (syndicated)", now)
	two.URL = "https://example.com/a-1?fbclid=zzz"
	two.CanonicalURL = one.CanonicalURL

	res := ingest(t, s, a.ID, alertTo("hook", "team-slack:#ai"), one)
	if res.Deliveries != 2 || res.Duplicates != 0 {
		t.Errorf("first source: %+v", res)
	}
	res = ingest(t, s, b.ID, alertTo("hook", "team-slack:#ai", "ops-discord:1"), two)
	if res.Fresh != 1 || res.Deliveries != 1 || res.Duplicates != 2 {
		t.Errorf("second source: %+v, want 1 new delivery (new target) and 2 duplicates", res)
	}
	dups := byStatus(t, s, store.StatusDuplicate)
	if len(dups) != 2 {
		t.Fatalf("duplicate rows = %+v", dups)
	}
	for _, d := range dups {
		if d.StoryID != "b-1" || d.DedupKey != one.CanonicalURL || !d.NextAttempt.IsZero() {
			t.Errorf("duplicate row = %+v", d)
		}
	}
	due := Due(t, s, later())
	var targets []string
	for _, d := range due {
		targets = append(targets, d.Target+"/"+d.StoryID)
	}
	if want := []string{"hook/a-1", "team-slack:#ai/a-1", "ops-discord:1/b-1"}; !slices.Equal(targets, want) {
		t.Errorf("due = %v, want %v", targets, want)
	}
}

func testIngestDedupInBatch(t *testing.T, s store.Store) {
	now := time.Now()
	one := mkStory("x-1", "Same", now)
	two := mkStory("x-2", "Same again", now)
	two.CanonicalURL = one.CanonicalURL
	nolink := story.Story{ID: "x-3", Title: "No link", Published: now}
	res := ingest(t, s, 0, alertTo("hook"), one, two, nolink)
	if res != (store.IngestResult{Fresh: 3, Matches: 3, Deliveries: 2, Duplicates: 1}) {
		t.Errorf("Ingest = %+v", res)
	}
	if d := byStatus(t, s, store.StatusDuplicate); len(d) != 1 || d[0].StoryID != "x-2" {
		t.Errorf("duplicates = %+v", d)
	}
	// Kinds without a dedup key are never duplicates.
	ds := []store.Delivery{{Target: "hook", Kind: store.KindHealth, Text: "down"}, {Target: "hook", Kind: store.KindHealth, Text: "down"}}
	out, err := s.Enqueue(t.Context(), ds)
	check(t, err)
	for _, d := range out {
		if d.Status != store.StatusPending {
			t.Errorf("undeduplicated row = %+v", d)
		}
	}
}

func testIngestDedupAnyStatus(t *testing.T, s store.Store) {
	now := time.Now()
	for _, final := range []string{store.StatusSent, store.StatusFailed} {
		first := mkStory(final+"-1", "x", now)
		ingest(t, s, 0, alertTo("hook"), first)
		due := Due(t, s, later())
		if len(due) != 1 {
			t.Fatalf("due = %+v", due)
		}
		if final == store.StatusSent {
			MarkSent(t, s, due[0].ID, "ref", now)
		} else {
			MarkFailed(t, s, due[0].ID, "boom")
		}
		again := mkStory(final+"-2", "x", now)
		again.CanonicalURL = first.CanonicalURL
		if res := ingest(t, s, 0, alertTo("hook"), again); res.Duplicates != 1 || res.Deliveries != 0 {
			t.Errorf("after a %s delivery: %+v, want a duplicate", final, res)
		}
	}
}

func testIngestRollsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	bad := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		return nil, []store.Delivery{{StoryID: fresh[0].ID}} // no target
	}
	if _, err := s.Ingest(ctx, 0, []story.Story{mkStory("rb", "x", time.Now())}, Plan(bad)); err == nil {
		t.Fatal("Ingest with a delivery with no target: no error")
	}
	if _, err := s.Story(ctx, "rb"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("story of a failed ingest: error = %v, want ErrNotFound (rolled back)", err)
	}
	// The story is still new next time.
	if res := ingest(t, s, 0, nil, mkStory("rb", "x", time.Now())); res.Fresh != 1 {
		t.Errorf("retry of a failed ingest = %+v", res)
	}
}

func testMatchCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	plan := func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		for i, st := range fresh {
			ms = append(ms, store.Match{StoryID: st.ID, Rule: "all", Terms: []string{"a"}})
			if i%2 == 0 {
				ms = append(ms, store.Match{StoryID: st.ID, Rule: "even"})
			}
		}
		return ms, nil
	}
	now := time.Now()
	res := ingest(t, s, 0, plan, mkStory("m0", "x", now), mkStory("m1", "x", now), mkStory("m2", "x", now))
	if res.Matches != 5 {
		t.Errorf("Matches = %d, want 5", res.Matches)
	}
	got, err := s.MatchCounts(ctx, now.Add(-time.Hour))
	check(t, err)
	if want := map[string]int{"all": 3, "even": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("MatchCounts = %v, want %v", got, want)
	}
	got, err = s.MatchCounts(ctx, now.Add(time.Hour))
	check(t, err)
	if len(got) != 0 {
		t.Errorf("MatchCounts(future) = %v, want none", got)
	}
}

// --- stories ---

func testStoriesQuery(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := addSource(t, s, "A")
	b := addSource(t, s, "B")
	base := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ingest(t, s, a.ID, nil, mkStory("q1", "one", base), mkStory("q3", "three", base.Add(2*time.Hour)))
	ingest(t, s, b.ID, nil, mkStory("q2", "two", base.Add(time.Hour)), mkStory("q4", "four", base.Add(3*time.Hour)))

	for _, tc := range []struct {
		name string
		q    store.StoryQuery
		want []string
	}{
		{"all, newest first", store.StoryQuery{}, []string{"q4", "q3", "q2", "q1"}},
		{"limit", store.StoryQuery{Limit: 2}, []string{"q4", "q3"}},
		{"since", store.StoryQuery{Since: base.Add(time.Hour)}, []string{"q4", "q3", "q2"}},
		{"before", store.StoryQuery{Before: base.Add(2 * time.Hour)}, []string{"q2", "q1"}},
		{"source", store.StoryQuery{SourceID: a.ID}, []string{"q3", "q1"}},
		{"text and source", store.StoryQuery{Words: words(Any(Phrase("two"), Phrase("three"))), SourceID: b.ID}, []string{"q2"}},
		{"text and since", store.StoryQuery{Words: words(Any(Phrase("one"), Phrase("three"), Phrase("four"))), Since: base.Add(2 * time.Hour)}, []string{"q4", "q3"}},
		{"text and limit", store.StoryQuery{Words: words(Any(Phrase("one"), Phrase("two"), Phrase("three"))), Limit: 2}, []string{"q3", "q2"}},
	} {
		got, err := s.Stories(ctx, tc.q)
		check(t, err)
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%s: Stories = %v, want %v", tc.name, ids(got), tc.want)
		}
	}
}

func testStoriesFTS(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	z := mkStory("z", "Bank in Zürich raises rates", now)
	c := mkStory("c", "Nvidia and China", now.Add(-time.Minute))
	c.Summary = "Export controls tighten."
	c.Content = "The H20 chip is affected."
	ingest(t, s, 0, nil, z, c, mkStory("o", "Other news", now.Add(-2*time.Minute)))

	for _, tc := range []struct {
		name string
		f    story.WordFilter
		want []string
	}{
		{"a word without its accent", Phrase("zurich"), []string{"z"}},
		{"both words", All(Phrase("nvidia"), Phrase("china")), []string{"c"}},
		{"a phrase in the summary", Phrase("export", "controls"), []string{"c"}},
		{"not a phrase out of order", Phrase("controls", "export"), nil},
		{"a prefix", Prefix("export"), []string{"c"}},
		{"a prefix in a phrase", Prefix("export", "contr"), []string{"c"}},
		{"a word of the content", Phrase("h20"), []string{"c"}},
		{"either word", Any(Phrase("nvidia"), Phrase("zurich")), []string{"z", "c"}},
		{"nested", All(Any(Phrase("bank"), Phrase("nvidia")), Any(Phrase("rates"), Phrase("h20"))), []string{"z", "c"}},
		{"absent", Phrase("absent"), nil},
		{"a quote is no syntax, only a break between words", Phrase(`"nvidia`), []string{"c"}},
		{"an operator is a word", All(Phrase("AND"), Phrase("OR")), nil},
	} {
		got, err := s.Stories(ctx, store.StoryQuery{Words: &tc.f})
		if err != nil {
			t.Errorf("%s: Stories: %v", tc.name, err)
			continue
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%s: Stories = %v, want %v", tc.name, ids(got), tc.want)
		}
	}
}

// --- outbox ---

func testEnqueue(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	at := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "ops", Kind: store.KindHealth, Text: "Feed A is failing"},
		{Target: "ops", Kind: store.KindDigest, StoryIDs: []string{"a", "b"}, Rules: []string{"r"}, NextAttempt: at},
		{Target: "ops", Kind: store.KindSummary, DedupKey: "summary:2026-11-28T09"},
		{Target: "ops", Kind: store.KindSummary, DedupKey: "summary:2026-11-28T09"},
	})
	check(t, err)
	if len(out) != 4 {
		t.Fatalf("Enqueue returned %d rows", len(out))
	}
	for i, d := range out {
		if d.ID == 0 || d.Created.Before(before) {
			t.Errorf("row %d = %+v, want an id and a creation time", i, d)
		}
	}
	if !slices.IsSorted(deliveryIDs(out)) {
		t.Errorf("ids not increasing: %v", deliveryIDs(out))
	}
	if out[0].Status != store.StatusPending || out[0].NextAttempt.Before(before) {
		t.Errorf("health row = %+v, want pending, due now", out[0])
	}
	if !out[1].NextAttempt.Equal(at) {
		t.Errorf("digest row NextAttempt = %v, want %v", out[1].NextAttempt, at)
	}
	if out[2].Status != store.StatusPending || out[3].Status != store.StatusDuplicate {
		t.Errorf("statuses = %s, %s; want pending, duplicate", out[2].Status, out[3].Status)
	}
	next, ok, err := s.NextDue(ctx)
	check(t, err)
	if !ok || !next.Equal(out[0].NextAttempt) {
		t.Errorf("NextDue = %v, %v; want %v", next, ok, out[0].NextAttempt)
	}
	if n, err := s.OutboxDepth(ctx); err != nil || n != 3 {
		t.Errorf("OutboxDepth = %d, %v; want 3", n, err)
	}
}

func testDueOrdering(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, ok, err := s.NextDue(ctx); err != nil || ok {
		t.Errorf("NextDue on an empty outbox = %v, %v", ok, err)
	}
	var in []store.Delivery
	for i := range 5 {
		in = append(in, store.Delivery{Target: "t", Kind: store.KindHealth, Text: fmt.Sprint(i)})
	}
	in = append(in, store.Delivery{Target: "u", Kind: store.KindHealth, Text: "other target"})
	out, err := s.Enqueue(ctx, in)
	check(t, err)
	claim := store.LaneClaim{Owner: "w1", TTL: time.Minute, Lanes: 10, Rows: 2}
	lanes, err := s.ClaimLanes(ctx, claim)
	check(t, err)
	if len(lanes) != 2 {
		t.Fatalf("ClaimLanes = %+v, want lanes t and u", lanes)
	}
	slices.SortFunc(lanes, func(a, b store.Lane) int { return strings.Compare(a.Target, b.Target) })
	lt := lanes[0]
	if lt.Target != "t" || !slices.Equal(deliveryIDs(lt.Due), []int64{out[0].ID, out[1].ID}) || lt.Lease.Owner != "w1" || lt.Lease.Token == 0 {
		t.Errorf("lane t = %+v, want its two oldest rows, leased to w1", lt)
	}
	// A leased lane is nobody else's.
	if again, err := s.ClaimLanes(ctx, claim); err != nil || len(again) != 0 {
		t.Errorf("second claim = %+v, %v; want nothing while both lanes are leased", again, err)
	}
	// A retry: the row waits, the attempt counts, the lane is held.
	future := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	lease, err := s.Settle(ctx, "t", lt.Lease, time.Minute, store.Outcome{
		IDs: []int64{out[0].ID}, Status: store.StatusPending, Next: future, Attempt: true,
		Error: "status 429", Waiting: "Retry-After 3600s", At: time.Now(),
	})
	check(t, err)
	if lease.Token != lt.Lease.Token || !lease.Until.After(lt.Lease.Until.Add(-time.Second)) {
		t.Errorf("renewed lease = %+v, from %+v", lease, lt.Lease)
	}
	check(t, s.ReleaseLane(ctx, "t", lease, store.Hold{Until: future, Reason: "Retry-After 3600s"}))
	check(t, s.ReleaseLane(ctx, "u", lanes[1].Lease, store.Hold{}))
	lanes, err = s.ClaimLanes(ctx, claim)
	check(t, err)
	if len(lanes) != 1 || lanes[0].Target != "u" {
		t.Errorf("claim with t held = %+v, want only u", lanes)
	}
	next, ok, err := s.NextDue(ctx)
	check(t, err)
	if !ok || !next.Equal(lanes[0].Lease.Until) {
		t.Errorf("NextDue = %v, %v; want the end of u's lease %v (t is held for an hour)", next, ok, lanes[0].Lease.Until)
	}
	targets, err := s.Targets(ctx)
	check(t, err)
	for _, ts := range targets {
		if ts.Target == "t" && (ts.Pending != 5 || !ts.Hold.Until.Equal(future) || ts.Hold.Reason != "Retry-After 3600s" || ts.LastError != "status 429") {
			t.Errorf("target t = %+v", ts)
		}
	}
	var waiting store.Delivery
	for _, d := range byStatus(t, s, store.StatusPending) {
		if d.ID == out[0].ID {
			waiting = d
		}
	}
	if waiting.Attempts != 1 || !waiting.NextAttempt.Equal(future) || waiting.Waiting != "Retry-After 3600s" || waiting.LastError != "status 429" {
		t.Errorf("retried row = %+v", waiting)
	}
}

func testDueFillsStories(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	ingest(t, s, 0, nil, mkStory("d1", "one", now), mkStory("d2", "two", now), mkStory("d3", "three", now))
	parent, err := s.Enqueue(ctx, []store.Delivery{{Target: "slack:#c", StoryID: "d1", DedupKey: "k1"}})
	check(t, err)
	MarkSent(t, s, parent[0].ID, "1700000000.000100", now)

	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "slack:#c", Kind: store.KindFollowUp, StoryID: "d2", ParentID: parent[0].ID, Cluster: "c1"},
		{Target: "slack:#c", Kind: store.KindDigest, StoryIDs: []string{"d3", "gone", "d1", "d2"}},
	})
	check(t, err)
	lanes, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "w", TTL: time.Minute, Lanes: 10, Rows: 10})
	check(t, err)
	if len(lanes) != 1 || len(lanes[0].Due) != 2 {
		t.Fatalf("lanes = %+v", lanes)
	}
	fu, dg := lanes[0].Due[0], lanes[0].Due[1]
	if fu.ID != out[0].ID || fu.Story == nil || fu.Story.ID != "d2" || fu.Story.Title != "two" ||
		fu.ParentRef != "1700000000.000100" || fu.Cluster != "c1" || fu.Kind != store.KindFollowUp {
		t.Errorf("follow-up = %+v", fu)
	}
	if dg.Story != nil || !slices.Equal(ids(dg.Stories), []string{"d3", "d1", "d2"}) ||
		!slices.Equal(dg.StoryIDs, []string{"d3", "gone", "d1", "d2"}) {
		t.Errorf("digest = %+v, want stories in StoryIDs order, missing ones left out", dg)
	}
}

func testDeliveryLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	out, err := s.Enqueue(ctx, []store.Delivery{{Target: "hook", StoryID: "s", DedupKey: "k"}, {Target: "hook", Kind: store.KindHealth, Text: "x"}})
	check(t, err)
	id, other := out[0].ID, out[1].ID

	// Two retries, each due now again so the helper can settle the next.
	now := time.Now().Truncate(time.Millisecond).UTC()
	Settle(t, s, id, store.Outcome{Status: store.StatusPending, Next: now, Attempt: true, Error: "status 503", At: now})
	Settle(t, s, id, store.Outcome{Status: store.StatusPending, Next: now, Attempt: true, Error: "status 429", At: now})
	var got store.Delivery
	for _, d := range byStatus(t, s, store.StatusPending) {
		if d.ID == id {
			got = d
		}
	}
	if got.Attempts != 2 || !got.NextAttempt.Equal(now) || got.LastError != "status 429" {
		t.Errorf("after two retries: %+v", got)
	}

	MarkFailed(t, s, id, "status 400")
	if n, _ := s.OutboxDepth(ctx); n != 1 {
		t.Errorf("OutboxDepth after a failure = %d, want 1", n)
	}
	failed := byStatus(t, s, store.StatusFailed)
	if len(failed) != 1 || failed[0].Attempts != 3 || failed[0].LastError != "status 400" {
		t.Fatalf("failed = %+v", failed)
	}

	check(t, s.Retry(ctx, id))
	due := Due(t, s, later())
	if !slices.Equal(deliveryIDs(due), []int64{id, other}) || due[0].LastError != "status 400" || due[0].Attempts != 3 {
		t.Errorf("after Retry: due = %+v, want it due again with its error kept", due)
	}

	sentAt := time.Date(2026, 11, 28, 9, 0, 1, 500000000, time.UTC)
	MarkSent(t, s, id, "msg-1", sentAt)
	sent := byStatus(t, s, store.StatusSent)
	if len(sent) != 1 || sent[0].Ref != "msg-1" || !sent[0].Sent.Equal(sentAt) || sent[0].Attempts != 4 {
		t.Errorf("sent = %+v", sent)
	}
	if err := s.Retry(ctx, id); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Retry of a sent delivery: error = %v, want ErrConflict", err)
	}
	if err := s.Retry(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Retry(9999) error = %v, want ErrNotFound", err)
	}
}

func testDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "a", Rules: []string{"r1"}, DedupKey: "k"},
		{Target: "a", Rules: []string{"r1", "r2"}, DedupKey: "k"},
		{Target: "b", Rules: []string{"r2"}},
	})
	check(t, err)
	MarkFailed(t, s, out[2].ID, "x")
	for _, tc := range []struct {
		name string
		q    store.DeliveryQuery
		want []int64
	}{
		{"all, newest first", store.DeliveryQuery{}, []int64{out[2].ID, out[1].ID, out[0].ID}},
		{"rule", store.DeliveryQuery{Rule: "r2"}, []int64{out[2].ID, out[1].ID}},
		{"status", store.DeliveryQuery{Status: store.StatusDuplicate}, []int64{out[1].ID}},
		{"rule and status", store.DeliveryQuery{Rule: "r2", Status: store.StatusFailed}, []int64{out[2].ID}},
		{"limit", store.DeliveryQuery{Limit: 1}, []int64{out[2].ID}},
		{"since", store.DeliveryQuery{Since: time.Now().Add(time.Hour)}, []int64{}},
		{"target", store.DeliveryQuery{Target: "a"}, []int64{out[1].ID, out[0].ID}},
		{"before", store.DeliveryQuery{Before: out[2].ID}, []int64{out[1].ID, out[0].ID}},
		{"before and limit", store.DeliveryQuery{Before: out[2].ID, Limit: 1}, []int64{out[1].ID}},
		{"before and rule", store.DeliveryQuery{Before: out[2].ID, Rule: "r2"}, []int64{out[1].ID}},
		{"before the oldest", store.DeliveryQuery{Before: out[0].ID}, []int64{}},
		{"target and status", store.DeliveryQuery{Target: "b", Status: store.StatusDuplicate}, []int64{}},
	} {
		got, err := s.Deliveries(ctx, tc.q)
		check(t, err)
		if !slices.Equal(deliveryIDs(got), tc.want) {
			t.Errorf("%s: Deliveries = %v, want %v", tc.name, deliveryIDs(got), tc.want)
		}
	}
}

// --- prune ---

func testPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	old := func(id, title string) story.Story {
		st := mkStory(id, title, now.Add(-40*24*time.Hour))
		st.Fetched = st.Published
		return st
	}
	ingest(t, s, 0, alertTo("hook"),
		old("old-plain", "zebra"), old("old-pending", "yak"), old("old-in-digest", "walrus"),
		old("old-sent", "vole"), old("old-failed", "urchin"), mkStory("new", "zebra too", now))
	due := Due(t, s, later())
	byStory := map[string]int64{}
	for _, d := range due {
		byStory[d.StoryID] = d.ID
	}
	for _, id := range []string{"old-plain", "old-in-digest", "new"} {
		MarkSent(t, s, byStory[id], "ref", now)
	}
	MarkSent(t, s, byStory["old-sent"], "ref", now)
	MarkFailed(t, s, byStory["old-failed"], "gone")
	_, err := s.Enqueue(ctx, []store.Delivery{{Target: "hook", Kind: store.KindDigest, StoryIDs: []string{"new", "old-in-digest"}}})
	check(t, err)

	n, err := s.Prune(ctx, now.Add(-30*24*time.Hour))
	check(t, err)
	if n != 3 {
		t.Errorf("Prune = %d, want 3 (plain, sent, failed)", n)
	}
	for id, kept := range map[string]bool{
		"old-plain": false, "old-sent": false, "old-failed": false,
		"old-pending": true, "old-in-digest": true, "new": true,
	} {
		_, err := s.Story(ctx, id)
		if kept && err != nil {
			t.Errorf("Story(%s) after prune: %v, want kept", id, err)
		}
		if !kept && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Story(%s) after prune: %v, want ErrNotFound", id, err)
		}
	}
	got, err := s.Stories(ctx, store.StoryQuery{Words: words(Phrase("zebra"))})
	check(t, err)
	if !slices.Equal(ids(got), []string{"new"}) {
		t.Errorf("search after prune = %v, want [new]", ids(got))
	}
	counts, err := s.MatchCounts(ctx, time.Time{})
	check(t, err)
	if counts["r1"] != 3 {
		t.Errorf("matches after prune = %v, want r1: 3", counts)
	}

	// A delivery whose story went still comes back, without the story.
	check(t, s.Retry(ctx, byStory["old-failed"]))
	due = Due(t, s, later())
	var found bool
	for _, d := range due {
		if d.ID == byStory["old-failed"] {
			found = true
			if d.Story != nil {
				t.Errorf("delivery of a pruned story has Story %+v", d.Story)
			}
		}
	}
	if !found {
		t.Errorf("retried delivery of a pruned story is not due: %v", deliveryIDs(due))
	}
	if n, err := s.Prune(ctx, now.Add(-30*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
}

func testPruneManyBatches(t *testing.T, s store.Store) {
	ctx := t.Context()
	fetched := time.Now().Add(-48 * time.Hour)
	var batch []story.Story
	const total = 2345
	for i := range total {
		st := mkStory(fmt.Sprintf("p%d", i), "bulk", fetched)
		st.Fetched = fetched
		batch = append(batch, st)
	}
	ingest(t, s, 0, nil, batch...)
	n, err := s.Prune(ctx, time.Now().Add(-24*time.Hour))
	check(t, err)
	if n != total {
		t.Errorf("Prune = %d, want %d", n, total)
	}
	left, err := s.Stories(ctx, store.StoryQuery{})
	check(t, err)
	if len(left) != 0 {
		t.Errorf("%d stories left", len(left))
	}
}

// --- concurrency, cancellation, restart ---

// testConcurrentIngest has several fetchers ingest at once, all carrying the
// same links, while readers read: every ingest succeeds (no SQLITE_BUSY) and
// each link is alerted exactly once.
func testConcurrentIngest(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, batches, perBatch = 6, 8, 10
	srcs := make([]store.Source, workers)
	for w := range srcs {
		srcs[w] = addSource(t, s, fmt.Sprintf("feed %d", w))
	}
	now := time.Now()
	results := make([]store.IngestResult, workers)
	errs := make(chan error, workers*batches+2*workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				var stories []story.Story
				for i := range perBatch {
					link := b*perBatch + i
					st := mkStory(fmt.Sprintf("w%d-%d", w, link), "concurrent story", now)
					st.CanonicalURL = fmt.Sprintf("https://example.com/shared/%d", link)
					stories = append(stories, st)
				}
				res, err := s.Ingest(ctx, srcs[w].ID, stories, Plan(alertTo("hook")))
				if err != nil {
					errs <- err
					return
				}
				results[w].Fresh += res.Fresh
				results[w].Deliveries += res.Deliveries
				results[w].Duplicates += res.Duplicates
			}
		})
		wg.Go(func() {
			for range batches {
				if _, err := s.Stories(ctx, store.StoryQuery{Words: words(Phrase("concurrent")), Limit: 5}); err != nil {
					errs <- err
					return
				}
				if _, err := s.Deliveries(ctx, store.DeliveryQuery{Status: store.StatusPending, Limit: 5}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var sum store.IngestResult
	for _, r := range results {
		sum.Fresh += r.Fresh
		sum.Deliveries += r.Deliveries
		sum.Duplicates += r.Duplicates
	}
	links := batches * perBatch
	if want := (store.IngestResult{Fresh: workers * links, Deliveries: links, Duplicates: (workers - 1) * links}); sum != want {
		t.Errorf("sum of results = %+v, want %+v", sum, want)
	}
	if n, err := s.OutboxDepth(ctx); err != nil || n != links {
		t.Errorf("OutboxDepth = %d, %v; want %d", n, err, links)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Ingest": func() error {
			_, err := s.Ingest(ctx, 0, []story.Story{mkStory("c", "x", time.Now())}, nil)
			return err
		},
		"Stories": func() error { _, err := s.Stories(ctx, store.StoryQuery{}); return err },
		"Sources": func() error { _, err := s.Sources(ctx); return err },
		"ClaimLanes": func() error {
			_, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "w", TTL: time.Minute, Lanes: 1})
			return err
		},
		"Enqueue": func() error { _, err := s.Enqueue(ctx, []store.Delivery{{Target: "x"}}); return err },
		"AddRule": func() error { _, err := s.AddRule(ctx, store.Rule{Query: "x"}); return err },
		"Prune":   func() error { _, err := s.Prune(ctx, time.Now()); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error = %v, want context.Canceled", name, err)
		}
	}
	if _, err := s.Story(t.Context(), "c"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("canceled Ingest stored its story: %v", err)
	}
}

func testRestart(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open()
	src := addSource(t, s, "Feed")
	check(t, s.SaveSourceState(ctx, src.ID, store.SourceState{ETag: "e", Primed: true}, store.Lease{}))
	now := time.Now()
	ingest(t, s, src.ID, alertTo("hook"), mkStory("r1", "one", now), mkStory("r2", "two", now))
	before := Due(t, s, later())
	check(t, s.Close())

	s = open()
	defer s.Close()
	lanes, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "after", TTL: time.Minute, Lanes: 10, Rows: 10})
	check(t, err)
	if len(lanes) != 1 || !slices.Equal(deliveryIDs(lanes[0].Due), deliveryIDs(before)) || len(before) != 2 || lanes[0].Due[0].Story == nil {
		t.Errorf("pending after restart = %+v, want %v with stories", lanes, deliveryIDs(before))
	}
	got, err := s.Source(ctx, src.ID)
	check(t, err)
	if got.State.ETag != "e" || !got.State.Primed {
		t.Errorf("source state after restart = %+v", got.State)
	}
	// Stories seen before the restart are not new after it.
	if res := ingest(t, s, src.ID, alertTo("hook"), mkStory("r1", "one", now)); res.Fresh != 0 {
		t.Errorf("re-ingest after restart = %+v, want nothing new", res)
	}
}

// words returns a pointer to f, for a StoryQuery.
func words(f story.WordFilter) *story.WordFilter { return &f }

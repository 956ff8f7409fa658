package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// claimTests are the contract of claims, leases, fencing and holds on one
// store handle.
var claimTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ClaimSources", testClaimSources},
	{"SourceLeaseFencing", testSourceLeaseFencing},
	{"SourcesPerHost", testSourcesPerHost},
	{"LaneLeaseExpiry", testLaneLeaseExpiry},
	{"ExpireLeases", testExpireLeases},
	{"Fingerprints", testFingerprints},
	{"TermCounts", testTermCounts},
	{"Sessions", testSessions},
	{"RulesVersion", testRulesVersion},
	{"NamedLeases", testNamedLeases},
	{"Remember", testRemember},
}

// eventually polls cond until it holds or the deadline passes: for leases,
// which run out on the store's clock.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func claimIDs(cs []store.ClaimedSource) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// testClaimSources: due sources are claimed earliest first, once; a paused
// or leased one is not; a fetch's next due time holds it back; FetchSoon,
// FetchAll and a new URL make a source due at once.
func testClaimSources(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b, c := addSource(t, s, "A"), addSource(t, s, "B"), addSource(t, s, "C")
	c.Paused = true
	check(t, s.UpdateSource(ctx, c))
	next, ok, err := s.NextSourceDue(ctx)
	check(t, err)
	if !ok || next.After(time.Now()) {
		t.Errorf("NextSourceDue of new sources = %v, %v; want now", next, ok)
	}
	first, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "w1", TTL: time.Minute, Limit: 1})
	check(t, err)
	if !slices.Equal(claimIDs(first), []int64{a.ID}) || first[0].Lease.Owner != "w1" || first[0].Lease.Token == 0 ||
		first[0].Name != "A" || first[0].URL != a.URL {
		t.Fatalf("first claim = %+v, want A leased to w1", first)
	}
	rest, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "w2", TTL: time.Minute, Limit: 10})
	check(t, err)
	if !slices.Equal(claimIDs(rest), []int64{b.ID}) {
		t.Fatalf("second claim = %v, want only B (A is leased, C paused)", claimIDs(rest))
	}
	// A fetch records its next due time and ends its lease.
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	check(t, s.SaveSourceState(ctx, a.ID, store.SourceState{LastFetch: time.Now(), LastStatus: 200, NextFetch: later}, first[0].Lease))
	check(t, s.SaveSourceState(ctx, b.ID, store.SourceState{LastFetch: time.Now(), LastStatus: 200, NextFetch: later}, rest[0].Lease))
	if got, _ := s.ClaimSources(ctx, store.SourceClaim{Owner: "w1", TTL: time.Minute, Limit: 10}); len(got) != 0 {
		t.Errorf("claim before anything is due = %v", claimIDs(got))
	}
	next, ok, err = s.NextSourceDue(ctx)
	check(t, err)
	if !ok || !next.Equal(later) {
		t.Errorf("NextSourceDue = %v, %v; want %v", next, ok, later)
	}
	check(t, s.FetchSoon(ctx, b.ID))
	if got, _ := s.ClaimSources(ctx, store.SourceClaim{Owner: "w1", TTL: time.Minute, Limit: 10}); !slices.Equal(claimIDs(got), []int64{b.ID}) {
		t.Errorf("after FetchSoon(B): claim = %v, want B", claimIDs(got))
	}
	if err := s.FetchSoon(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FetchSoon(9999) = %v, want ErrNotFound", err)
	}
	a.URL = "https://moved.example.com/rss"
	check(t, s.UpdateSource(ctx, a))
	if got, _ := s.ClaimSources(ctx, store.SourceClaim{Owner: "w1", TTL: time.Minute, Limit: 10}); !slices.Equal(claimIDs(got), []int64{a.ID}) {
		t.Errorf("after a new URL: claim = %v, want A", claimIDs(got))
	}
	check(t, s.FetchAll(ctx))
	if got, _ := s.ClaimSources(ctx, store.SourceClaim{Owner: "w3", TTL: time.Minute, Limit: 10}); len(got) != 0 {
		t.Errorf("FetchAll while A and B are leased: claim = %v, want nothing (leases hold)", claimIDs(got))
	}
	c.Paused = false
	check(t, s.UpdateSource(ctx, c))
	if got, _ := s.ClaimSources(ctx, store.SourceClaim{Owner: "w3", TTL: time.Minute, Limit: 10}); !slices.Equal(claimIDs(got), []int64{c.ID}) {
		t.Errorf("a resumed source: claim = %v, want C", claimIDs(got))
	}
}

// testSourceLeaseFencing: once a lease ran out and another worker claimed
// the source, the first worker's record is refused and changes nothing.
func testSourceLeaseFencing(t *testing.T, s store.Store) {
	ctx := t.Context()
	src := addSource(t, s, "Feed")
	claim := func(owner string, ttl time.Duration) []store.ClaimedSource {
		cs, err := s.ClaimSources(ctx, store.SourceClaim{Owner: owner, TTL: ttl, Limit: 1})
		check(t, err)
		return cs
	}
	stale := claim("stale", 30*time.Millisecond)
	if len(stale) != 1 {
		t.Fatalf("claim = %v", claimIDs(stale))
	}
	var fresh []store.ClaimedSource
	eventually(t, 5*time.Second, "the lease runs out and another worker claims", func() bool {
		fresh = claim("fresh", time.Minute)
		return len(fresh) == 1
	})
	if fresh[0].Lease.Token <= stale[0].Lease.Token {
		t.Errorf("tokens: stale %d, fresh %d; want the fresh one higher", stale[0].Lease.Token, fresh[0].Lease.Token)
	}
	err := s.SaveSourceState(ctx, src.ID, store.SourceState{ETag: "stale", LastStatus: 500}, stale[0].Lease)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale holder's SaveSourceState = %v, want ErrLeaseLost", err)
	}
	check(t, s.SaveSourceState(ctx, src.ID, store.SourceState{ETag: "fresh", LastStatus: 200}, fresh[0].Lease))
	got, err := s.Source(ctx, src.ID)
	check(t, err)
	if got.State.ETag != "fresh" {
		t.Errorf("state = %+v, want the fresh holder's", got.State)
	}
	// The record ended the lease: the source is free (and due: NextFetch zero).
	if again := claim("third", time.Minute); len(again) != 1 {
		t.Errorf("after the holder's record: claim = %v, want the source", claimIDs(again))
	}
}

// testSourcesPerHost: leases held at once on one host's sources, by anyone,
// stay within the cap; other hosts are not held back by it.
func testSourcesPerHost(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		_, err := s.AddSource(ctx, store.Source{Name: fmt.Sprintf("busy %d", i), URL: fmt.Sprintf("https://busy.example.com/%d", i)})
		check(t, err)
	}
	other, err := s.AddSource(ctx, store.Source{Name: "other", URL: "https://other.example.org/rss"})
	check(t, err)
	first, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "w1", TTL: time.Minute, Limit: 10, PerHost: 2})
	check(t, err)
	if len(first) != 3 || !slices.Contains(claimIDs(first), other.ID) {
		t.Fatalf("claim = %v, want two of busy.example.com and the other host", claimIDs(first))
	}
	second, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "w2", TTL: time.Minute, Limit: 10, PerHost: 2})
	check(t, err)
	if len(second) != 0 {
		t.Errorf("another worker's claim = %v, want none: the host's two leases are held", claimIDs(second))
	}
	check(t, s.SaveSourceState(ctx, first[0].ID, store.SourceState{NextFetch: time.Now().Add(time.Hour)}, first[0].Lease))
	third, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "w2", TTL: time.Minute, Limit: 10, PerHost: 2})
	check(t, err)
	if len(third) != 1 {
		t.Errorf("after one fetch ended: claim = %v, want one more", claimIDs(third))
	}
}

// testLaneLeaseExpiry: a lane whose lease ran out goes to the next worker;
// the first holder's records and release are then refused, and what it
// would have recorded is not.
func testLaneLeaseExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	out, err := s.Enqueue(ctx, []store.Delivery{
		{Target: "hook", Kind: store.KindHealth, Text: "one"},
		{Target: "hook", Kind: store.KindHealth, Text: "two"},
	})
	check(t, err)
	stale, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "stale", TTL: 30 * time.Millisecond, Lanes: 1, Rows: 10})
	check(t, err)
	if len(stale) != 1 || len(stale[0].Due) != 2 {
		t.Fatalf("claim = %+v", stale)
	}
	var fresh []store.Lane
	eventually(t, 5*time.Second, "the lease runs out and another worker claims the lane", func() bool {
		fresh, err = s.ClaimLanes(ctx, store.LaneClaim{Owner: "fresh", TTL: time.Minute, Lanes: 1, Rows: 10})
		check(t, err)
		return len(fresh) == 1
	})
	l := fresh[0]
	if l.Lease.Token <= stale[0].Lease.Token || len(l.Due) != 2 {
		t.Fatalf("fresh lane = %+v, stale token %d", l, stale[0].Lease.Token)
	}
	lease, err := s.Settle(ctx, "hook", l.Lease, time.Minute, store.Outcome{IDs: []int64{out[0].ID}, Status: store.StatusSent, Ref: "fresh-ref", At: time.Now(), Attempt: true})
	check(t, err)
	_, err = s.Settle(ctx, "hook", stale[0].Lease, time.Minute, store.Outcome{IDs: []int64{out[0].ID, out[1].ID}, Status: store.StatusSent, Ref: "stale-ref", At: time.Now(), Attempt: true})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale Settle = %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLane(ctx, "hook", stale[0].Lease, store.Hold{Until: time.Now().Add(time.Hour), Reason: "stale"}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("stale ReleaseLane = %v, want ErrLeaseLost", err)
	}
	sent := byStatus(t, s, store.StatusSent)
	if len(sent) != 1 || sent[0].ID != out[0].ID || sent[0].Ref != "fresh-ref" || sent[0].Attempts != 1 {
		t.Errorf("sent = %+v, want only the fresh holder's record", sent)
	}
	if pending := byStatus(t, s, store.StatusPending); len(pending) != 1 || pending[0].ID != out[1].ID {
		t.Errorf("pending = %+v, want the second row untouched by the stale holder", pending)
	}
	check(t, s.ReleaseLane(ctx, "hook", lease, store.Hold{}))
	if again, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "w", TTL: time.Minute, Lanes: 1, Rows: 10}); err != nil || len(again) != 1 || len(again[0].Due) != 1 {
		t.Errorf("after release: %+v, %v; want the lane with its one row", again, err)
	}
}

// testExpireLeases: the leases of a worker known to be dead end at once.
func testExpireLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	addSource(t, s, "Feed")
	_, err := s.Enqueue(ctx, []store.Delivery{{Target: "hook", Kind: store.KindHealth, Text: "x"}})
	check(t, err)
	cs, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "dead", TTL: time.Hour, Limit: 1})
	check(t, err)
	ls, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "dead", TTL: time.Hour, Lanes: 1})
	check(t, err)
	if len(cs) != 1 || len(ls) != 1 {
		t.Fatalf("claims: %d sources, %d lanes", len(cs), len(ls))
	}
	owners, err := s.LeaseOwners(ctx)
	check(t, err)
	if !slices.Equal(owners, []string{"dead"}) {
		t.Errorf("LeaseOwners = %v, want [dead]", owners)
	}
	n, err := s.ExpireLeases(ctx, "dead")
	check(t, err)
	if n != 2 {
		t.Errorf("ExpireLeases = %d, want 2", n)
	}
	cs2, err := s.ClaimSources(ctx, store.SourceClaim{Owner: "alive", TTL: time.Hour, Limit: 1})
	check(t, err)
	ls2, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: "alive", TTL: time.Hour, Lanes: 1})
	check(t, err)
	if len(cs2) != 1 || len(ls2) != 1 {
		t.Errorf("after ExpireLeases: %d sources, %d lanes claimable; want 1 and 1", len(cs2), len(ls2))
	}
	if owners, _ := s.LeaseOwners(ctx); !slices.Equal(owners, []string{"alive"}) {
		t.Errorf("LeaseOwners = %v, want [alive]", owners)
	}
}

// testFingerprints: a story is found under each of its keys within the
// window, each once, newest first, at most perKey per key; a cluster's
// sources come in the order they carried it; forgotten fingerprints are
// found no more.
func testFingerprints(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := addSource(t, s, "A"), addSource(t, s, "B")
	now := time.Now().Truncate(time.Millisecond).UTC()
	fp := func(keys ...uint64) func(fresh []story.Story) []store.Fingerprint {
		return func(fresh []story.Story) []store.Fingerprint {
			var out []store.Fingerprint
			for _, st := range fresh {
				out = append(out, store.Fingerprint{StoryID: st.ID, Sig: []byte("sig-" + st.ID), Keys: keys})
			}
			return out
		}
	}
	file := func(src int64, cluster string, fetched time.Time, keys func([]story.Story) []store.Fingerprint, ids ...string) {
		var stories []story.Story
		for _, id := range ids {
			st := mkStory(id, id, fetched)
			st.Fetched = fetched
			stories = append(stories, st)
		}
		_, err := s.Ingest(ctx, src, stories, func(_ context.Context, _ store.PlanTx, fresh []story.Story) (store.Plan, error) {
			for i := range fresh {
				fresh[i].Cluster = cluster
			}
			return store.Plan{Fingerprints: keys(fresh)}, nil
		})
		check(t, err)
	}
	const big = 1 << 63 // keys use all 64 bits
	file(a.ID, "old", now.Add(-100*time.Hour), fp(1, 2), "old")
	file(a.ID, "c1", now.Add(-2*time.Hour), fp(1, big+5), "x1")
	file(b.ID, "c1", now.Add(-time.Hour), fp(big+5, 7), "x2")
	file(a.ID, "c2", now, fp(9), "y1", "y2", "y3")
	var got []store.Candidate
	var srcs []string
	_, err := s.Ingest(ctx, 0, []story.Story{mkStory("probe", "probe", now)}, func(ctx context.Context, tx store.PlanTx, _ []story.Story) (store.Plan, error) {
		var err error
		if got, err = tx.Candidates(ctx, []uint64{1, big + 5, 9, 12345}, now.Add(-72*time.Hour), 2); err != nil {
			return store.Plan{}, err
		}
		srcs, err = tx.ClusterSources(ctx, "c1", now.Add(-72*time.Hour))
		return store.Plan{}, err
	})
	check(t, err)
	var ids []string
	for _, c := range got {
		ids = append(ids, c.StoryID)
		if string(c.Sig) != "sig-"+c.StoryID || c.Fetched.IsZero() {
			t.Errorf("candidate %+v: want its signature and fetch time", c)
		}
	}
	// Key 9 has three stories, of which the newest two count; "old" is out
	// of the window.
	if want := []string{"y3", "y2", "x2", "x1"}; !slices.Equal(ids, want) {
		t.Errorf("Candidates = %v, want %v", ids, want)
	}
	if len(got) == 4 && (got[2].Cluster != "c1" || got[2].Source != "B" || !slices.Equal(got[2].Keys, []uint64{big + 5})) {
		t.Errorf("candidate x2 = %+v, want cluster c1 from B, found under key %d", got[2], uint64(big+5))
	}
	if !slices.Equal(srcs, []string{"A", "B"}) {
		t.Errorf("ClusterSources(c1) = %v, want [A B]", srcs)
	}
	check(t, s.ForgetFingerprints(ctx, now.Add(-90*time.Minute)))
	_, err = s.Ingest(ctx, 0, []story.Story{mkStory("probe2", "probe", now)}, func(ctx context.Context, tx store.PlanTx, _ []story.Story) (store.Plan, error) {
		var err error
		got, err = tx.Candidates(ctx, []uint64{1, big + 5}, time.Time{}, 10)
		return store.Plan{}, err
	})
	check(t, err)
	if len(got) != 1 || got[0].StoryID != "x2" {
		t.Errorf("after forgetting stories before x2: candidates %+v, want only x2", got)
	}
}

// testSessions: a session is found by its hash until it ends or is deleted;
// beyond the bound the ones that end first go.
func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := func(i int) []byte { return []byte(fmt.Sprintf("%032d", i)) }
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	check(t, s.AddSession(ctx, h(1), exp, 0))
	got, err := s.SessionExpires(ctx, h(1))
	check(t, err)
	if !got.Equal(exp) {
		t.Errorf("SessionExpires = %v, want %v", got, exp)
	}
	if _, err := s.SessionExpires(ctx, h(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}
	check(t, s.AddSession(ctx, h(3), time.Now().Add(-time.Second), 0))
	if _, err := s.SessionExpires(ctx, h(3)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ended session: %v, want ErrNotFound", err)
	}
	check(t, s.DeleteSession(ctx, h(1)))
	if _, err := s.SessionExpires(ctx, h(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted session: %v, want ErrNotFound", err)
	}
	for i := range 5 {
		check(t, s.AddSession(ctx, h(10+i), exp.Add(time.Duration(i)*time.Minute), 3))
	}
	for i := range 5 {
		_, err := s.SessionExpires(ctx, h(10+i))
		if kept := i >= 2; kept != (err == nil) {
			t.Errorf("session %d of 5 with a bound of 3: %v", i, err)
		}
	}
}

// testRulesVersion: the counter moves on every change of a rule.
func testRulesVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	v0, err := s.RulesVersion(ctx)
	check(t, err)
	r, err := s.AddRule(ctx, store.Rule{Query: "a", Notify: []string{"hook"}})
	check(t, err)
	v1, _ := s.RulesVersion(ctx)
	r.Paused = true
	check(t, s.UpdateRule(ctx, r))
	v2, _ := s.RulesVersion(ctx)
	check(t, s.DeleteRule(ctx, r.ID))
	v3, _ := s.RulesVersion(ctx)
	check(t, s.SyncConfigRules(ctx, []store.Rule{{Name: "cfg", Query: "b", Notify: []string{"hook"}}}))
	v4, _ := s.RulesVersion(ctx)
	if !(v0 < v1 && v1 < v2 && v2 < v3 && v3 < v4) {
		t.Errorf("versions %d, %d, %d, %d, %d: want them to grow with each change", v0, v1, v2, v3, v4)
	}
}

// RunShared runs the tests that open two handles on one database, as two
// processes (or replicas) do. newDatabase returns an Opener on a new, empty
// database each time it is called.
func RunShared(t *testing.T, newDatabase func(t *testing.T) Opener) {
	t.Run("TwoHandlesClaimEachLaneOnce", func(t *testing.T) { testTwoHandlesLanes(t, newDatabase(t)) })
	t.Run("TwoHandlesIngestOnce", func(t *testing.T) { testTwoHandlesIngest(t, newDatabase(t)) })
	t.Run("TwoHandlesShareState", func(t *testing.T) { testTwoHandlesShare(t, newDatabase(t)) })
}

// testTwoHandlesLanes: two handles claiming and settling at once send each
// row once, each lane to one holder at a time.
func testTwoHandlesLanes(t *testing.T, open Opener) {
	a, b := open(), open()
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	const targets, per = 8, 25
	var ds []store.Delivery
	for i := range per {
		for tg := range targets {
			ds = append(ds, store.Delivery{Target: fmt.Sprintf("t%d", tg), Kind: store.KindHealth, Text: fmt.Sprint(i)})
		}
	}
	_, err := a.Enqueue(ctx, ds)
	check(t, err)
	var mu sync.Mutex
	settled := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", w)
			for {
				lanes, err := s.ClaimLanes(ctx, store.LaneClaim{Owner: owner, TTL: time.Minute, Lanes: 2, Rows: 5})
				if err != nil {
					errs <- err
					return
				}
				if len(lanes) == 0 {
					if n, err := s.OutboxDepth(ctx); err != nil || n == 0 {
						return
					}
					continue
				}
				for _, l := range lanes {
					lease := l.Lease
					for _, d := range l.Due {
						if lease, err = s.Settle(ctx, l.Target, lease, time.Minute, store.Outcome{IDs: []int64{d.ID}, Status: store.StatusSent, At: time.Now(), Attempt: true}); err != nil {
							errs <- err
							return
						}
						mu.Lock()
						settled[d.ID]++
						mu.Unlock()
					}
					if err := s.ReleaseLane(ctx, l.Target, lease, store.Hold{}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(settled) != targets*per {
		t.Errorf("%d rows settled, want %d", len(settled), targets*per)
	}
	for id, n := range settled {
		if n != 1 {
			t.Errorf("row %d settled %d times", id, n)
		}
	}
}

// testTwoHandlesIngest: the same stories ingested through two handles at
// once are new once and alerted once.
func testTwoHandlesIngest(t *testing.T, open Opener) {
	a, b := open(), open()
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	now := time.Now()
	var stories []story.Story
	for i := range 30 {
		stories = append(stories, mkStory(fmt.Sprintf("s%d", i), "shared", now))
	}
	results := make([]store.IngestResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []store.Store{a, b} {
		wg.Go(func() { results[i], errs[i] = s.Ingest(ctx, 0, stories, Plan(alertTo("hook"))) })
	}
	wg.Wait()
	check(t, errors.Join(errs...))
	if fresh := results[0].Fresh + results[1].Fresh; fresh != 30 {
		t.Errorf("fresh stories = %d + %d, want 30 in all", results[0].Fresh, results[1].Fresh)
	}
	if n, err := b.OutboxDepth(ctx); err != nil || n != 30 {
		t.Errorf("OutboxDepth = %d, %v; want 30", n, err)
	}
}

// testTwoHandlesShare: what one handle records, the other reads: sessions,
// holds, the rules counter, a digest period.
func testTwoHandlesShare(t *testing.T, open Opener) {
	a, b := open(), open()
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	check(t, a.AddSession(ctx, []byte("session-hash"), time.Now().Add(time.Hour), 0))
	if _, err := b.SessionExpires(ctx, []byte("session-hash")); err != nil {
		t.Errorf("session made through one handle, read through the other: %v", err)
	}
	v, _ := b.RulesVersion(ctx)
	_, err := a.AddRule(ctx, store.Rule{Query: "x", Notify: []string{"hook"}})
	check(t, err)
	if v2, _ := b.RulesVersion(ctx); v2 <= v {
		t.Errorf("rules counter through the other handle: %d, then %d", v, v2)
	}
	_, err = a.Enqueue(ctx, []store.Delivery{{Target: "hook", Kind: store.KindHealth, Text: "x"}})
	check(t, err)
	lanes, err := a.ClaimLanes(ctx, store.LaneClaim{Owner: "a", TTL: time.Minute, Lanes: 1})
	check(t, err)
	if len(lanes) != 1 {
		t.Fatalf("lanes = %+v", lanes)
	}
	check(t, a.ReleaseLane(ctx, "hook", lanes[0].Lease, store.Hold{Until: time.Now().Add(time.Hour), Reason: "429"}))
	if got, _ := b.ClaimLanes(ctx, store.LaneClaim{Owner: "b", TTL: time.Minute, Lanes: 1}); len(got) != 0 {
		t.Errorf("a lane held through one handle was claimed through the other: %+v", got)
	}
	end := time.Now().Truncate(time.Millisecond)
	ok, err := a.AdvanceDigest(ctx, "d", time.Time{}, end, nil)
	check(t, err)
	ok2, err := b.AdvanceDigest(ctx, "d", time.Time{}, end, nil)
	check(t, err)
	if !ok || ok2 {
		t.Errorf("digest advanced by both handles from the same start: %v, %v", ok, ok2)
	}
}

// testNamedLeases: one owner at a time; renewal keeps the token, a change
// of hands moves it; a released or expired lease can be taken.
func testNamedLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, err := s.AcquireLease(ctx, "gateway", "a", time.Minute)
	check(t, err)
	if a.Owner != "a" || a.Token == 0 {
		t.Fatalf("lease = %+v", a)
	}
	if _, err := s.AcquireLease(ctx, "gateway", "b", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("another owner's AcquireLease = %v, want ErrLeaseLost", err)
	}
	again, err := s.AcquireLease(ctx, "gateway", "a", time.Minute)
	check(t, err)
	if again.Token != a.Token {
		t.Errorf("renewal moved the token: %d to %d", a.Token, again.Token)
	}
	if _, err := s.AcquireLease(ctx, "other", "b", time.Minute); err != nil {
		t.Errorf("a lease of another name: %v", err)
	}
	check(t, s.ReleaseLease(ctx, "gateway", again))
	b, err := s.AcquireLease(ctx, "gateway", "b", 30*time.Millisecond)
	check(t, err)
	if b.Token <= a.Token {
		t.Errorf("tokens %d then %d; want the new holder's higher", a.Token, b.Token)
	}
	var c store.Lease
	eventually(t, 5*time.Second, "an expired lease is taken", func() bool {
		c, err = s.AcquireLease(ctx, "gateway", "c", time.Minute)
		return err == nil
	})
	if c.Token <= b.Token {
		t.Errorf("tokens %d then %d after expiry", b.Token, c.Token)
	}
	// A stale release changes nothing.
	check(t, s.ReleaseLease(ctx, "gateway", b))
	if _, err := s.AcquireLease(ctx, "gateway", "d", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("after a stale release: %v, want the lease still held", err)
	}
}

// testRemember: a key is new once until its time passes.
func testRemember(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, want := range []bool{true, false, false} {
		got, err := s.Remember(ctx, "slack:1700000000:v0=abc", time.Now().Add(time.Minute))
		check(t, err)
		if got != want {
			t.Errorf("Remember #%d = %v, want %v", i+1, got, want)
		}
	}
	if got, _ := s.Remember(ctx, "another", time.Now().Add(time.Minute)); !got {
		t.Error("another key is not new")
	}
	if got, _ := s.Remember(ctx, "short", time.Now().Add(-time.Millisecond)); !got {
		t.Error("a key remembered until the past is new the first time")
	}
	if got, _ := s.Remember(ctx, "short", time.Now().Add(time.Minute)); !got {
		t.Error("a key whose time passed is new again")
	}
}

// testTermCounts: the terms a plan counts are counted per story, read back
// in a later ingest with the number of stories; a term no story had is
// absent; forgetting drops the terms not seen since a time but keeps the
// number of stories. A story's ClusterWhy is stored with it.
func testTermCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	src := addSource(t, s, "A")
	const big = 1<<32 - 1 // terms use all 32 bits
	count := func(id string, terms []uint32, stories int, why []string) {
		_, err := s.Ingest(ctx, src.ID, []story.Story{mkStory(id, id, time.Now())}, func(_ context.Context, _ store.PlanTx, fresh []story.Story) (store.Plan, error) {
			fresh[0].Cluster, fresh[0].ClusterWhy = "c-"+id, why
			return store.Plan{Terms: terms, TermStories: stories}, nil
		})
		check(t, err)
	}
	read := func(terms ...uint32) (n int64, counts map[uint32]int64) {
		_, err := s.Ingest(ctx, src.ID, []story.Story{mkStory(fmt.Sprintf("probe-%d", time.Now().UnixNano()), "probe", time.Now())},
			func(ctx context.Context, tx store.PlanTx, _ []story.Story) (store.Plan, error) {
				var err error
				n, counts, err = tx.TermCounts(ctx, terms)
				return store.Plan{}, err
			})
		check(t, err)
		return n, counts
	}
	if n, counts := read(1, 2); n != 0 || len(counts) != 0 {
		t.Errorf("empty store: %d stories, counts %v", n, counts)
	}
	// Two stories: one with terms 1 and big, one with 1 and 2.
	count("s1", []uint32{1, big, 1, 2}, 2, []string{"Tarrant", "900"})
	// Times are kept to the millisecond: s2 is counted in a later one.
	before := time.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	for time.Now().Before(before) {
	}
	count("s2", []uint32{1, 7}, 1, nil)
	n, counts := read(1, 2, 7, big, 99)
	want := map[uint32]int64{1: 3, 2: 1, 7: 1, big: 1}
	if n != 3 || !maps.Equal(counts, want) {
		t.Errorf("TermCounts = %d, %v; want 3, %v", n, counts, want)
	}
	st, err := s.Story(ctx, "s1")
	check(t, err)
	if st.Cluster != "c-s1" || !slices.Equal(st.ClusterWhy, []string{"Tarrant", "900"}) {
		t.Errorf("story s1: cluster %q, why %q; want c-s1, [Tarrant 900]", st.Cluster, st.ClusterWhy)
	}
	if st, err := s.Story(ctx, "s2"); err != nil || st.ClusterWhy != nil {
		t.Errorf("story s2: why %q, %v; want none", st.ClusterWhy, err)
	}
	// Terms 1 and 7 were seen by s2; 2 and big only before.
	check(t, s.ForgetTerms(ctx, before))
	n, counts = read(1, 2, 7, big)
	if want := map[uint32]int64{1: 3, 7: 1}; n != 3 || !maps.Equal(counts, want) {
		t.Errorf("after ForgetTerms: %d, %v; want 3, %v", n, counts, want)
	}
}

package cluster

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// story is a text to sign, as the tests write it.
type story struct{ id, title, summary string }

func (s story) sig() Signature { return Sign(s.title, s.summary) }

var (
	aid = story{"aid", "Senate Gives Final Approval To Ukraine Aid, Huge Budget Bill",
		"The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid for besieged Ukraine and its European allies."}
	aidWire = story{"aid-wire", "UPDATE 1-Congress sends $13.6 billion Ukraine aid package to Biden",
		"WASHINGTON (Reuters) - The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid for besieged Ukraine and its European allies."}
	aidCaps = story{"aid-caps", "SENATE GIVES FINAL APPROVAL TO UKRAINE AID, HUGE BUDGET BILL",
		"The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid…"}
	election = story{"election", "Netanyahu Holds Solid Lead In Israeli Elections",
		"Early exit polls show Prime Minister Benjamin Netanyahu holds a solid edge over his main rival in Israel's third election in under a year."}
	tweets1 = story{"tweets-17-23", "23 Of The Funniest Tweets About Cats And Dogs This Week (Sept. 17-23)",
		`"Until you have a dog you don't understand what could be eaten."`}
	tweets2 = story{"tweets-10-16", "23 Of The Funniest Tweets About Cats And Dogs This Week (Sept. 10-16)",
		`"My cat just knocked a full glass of water off the table while looking me in the eye."`}
	saysVeto = story{"says-veto", "Trump Says He Will Veto The Border Funding Bill", ""}
	saysSign = story{"says-sign", "Trump Says He Will Sign The Border Funding Bill", ""}
	senate   = story{"senate", "Senate Passes $1.9 Trillion COVID Relief Bill", ""}
	house    = story{"house", "House Passes $1.9 Trillion COVID Relief Bill", ""}
	quake1   = story{"quake-japan", "Earthquake Hits Japan", ""}
	quake2   = story{"quake-mexico", "Earthquake Hits Mexico", ""}
	quake1b  = story{"quake-japan-2", "EARTHQUAKE HITS JAPAN", ""}
	// The same wire headline over another outlet's own summary.
	annan  = story{"annan", "Kofi Annan, Former United Nations Secretary-General, Dead At 80", "Tributes have flooded in for the Ghanaian diplomat, who has been hailed as a guiding force for good."}
	annan2 = story{"annan-2", "Kofi Annan, Former United Nations Secretary-General, Dead At 80", "The Nobel Peace Prize laureate died in Switzerland after a short illness, his foundation said."}
)

// step is one call of a scenario: Assign (or Add, when add is set) of a
// story at t0 plus after, and the answer Assign must give.
type step struct {
	s       story
	after   time.Duration
	add     string // Add with this cluster id instead of Assign
	cluster string
	isNew   bool
}

func TestAssign(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"first story starts a cluster", []step{
			{s: aid, cluster: "aid", isNew: true},
		}},
		{"re-titled wire copy joins", []step{
			{s: aid, cluster: "aid", isNew: true},
			{s: aidWire, after: 2 * time.Hour, cluster: "aid"},
			{s: aidCaps, after: 3 * time.Hour, cluster: "aid"},
		}},
		{"other event starts its own", []step{
			{s: aid, cluster: "aid", isNew: true},
			{s: election, after: time.Hour, cluster: "election", isNew: true},
			{s: aidWire, after: 2 * time.Hour, cluster: "aid"},
		}},
		{"template headlines of different weeks stay apart", []step{
			{s: tweets1, cluster: "tweets-17-23", isNew: true},
			{s: tweets2, after: time.Hour, cluster: "tweets-10-16", isNew: true},
		}},
		{"Trump says X, Trump says Y stay apart", []step{
			{s: saysVeto, cluster: "says-veto", isNew: true},
			{s: saysSign, after: time.Hour, cluster: "says-sign", isNew: true},
		}},
		{"short headlines need a near-identical text", []step{
			{s: quake1, cluster: "quake-japan", isNew: true},
			{s: quake2, after: time.Hour, cluster: "quake-mexico", isNew: true},
			{s: quake1b, after: 2 * time.Hour, cluster: "quake-japan"},
		}},
		{"a one-word change of a headline alone stays apart", []step{
			{s: senate, cluster: "senate", isNew: true},
			{s: house, after: time.Hour, cluster: "house", isNew: true},
		}},
		{"same long headline over another summary joins", []step{
			{s: annan, cluster: "annan", isNew: true},
			{s: annan2, after: time.Hour, cluster: "annan"},
		}},
		{"a copy 72 hours later still joins", []step{
			{s: aid, cluster: "aid", isNew: true},
			{s: aidWire, after: 72 * time.Hour, cluster: "aid"},
		}},
		{"a copy 73 hours later starts a new cluster", []step{
			{s: aid, cluster: "aid", isNew: true},
			{s: aidWire, after: 73 * time.Hour, cluster: "aid-wire", isNew: true},
		}},
		{"a copy published before the original joins it", []step{
			{s: aid, cluster: "aid", isNew: true},
			{s: aidWire, after: -5 * time.Hour, cluster: "aid"},
		}},
		{"the cluster is its first story's, through any member", []step{
			{s: aidCaps, cluster: "aid-caps", isNew: true},
			{s: aid, after: time.Hour, cluster: "aid-caps"},
			{s: aidWire, after: 2 * time.Hour, cluster: "aid-caps"},
		}},
		{"rebuilt with Add, a copy joins the old cluster", []step{
			{s: aid, after: -48 * time.Hour, add: "aid"},
			{s: aidCaps, after: -47 * time.Hour, add: "aid"},
			{s: election, after: -10 * time.Hour, add: "election"},
			{s: aidWire, cluster: "aid"},
		}},
		{"Add keeps the cluster it is given", []step{
			{s: aidCaps, after: -47 * time.Hour, add: "first-story-gone"},
			{s: aidWire, cluster: "first-story-gone"},
		}},
		{"an id assigned again keeps its answer", []step{
			{s: aid, cluster: "aid", isNew: true},
			{s: aidWire, after: time.Hour, cluster: "aid"},
			{s: aid, after: 2 * time.Hour, cluster: "aid", isNew: true},
			{s: aidWire, after: 3 * time.Hour, cluster: "aid"},
		}},
		{"a story with no words never joins", []step{
			{s: story{"empty-1", "!!!", ""}, cluster: "empty-1", isNew: true},
			{s: story{"empty-2", "!!!", ""}, cluster: "empty-2", isNew: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := NewIndex(Options{})
			for i, st := range tt.steps {
				at := t0.Add(st.after)
				if st.add != "" {
					ix.Add(st.s.id, st.add, st.s.sig(), at)
					continue
				}
				c, isNew := ix.Assign(st.s.id, st.s.sig(), at)
				if c != st.cluster || isNew != st.isNew {
					t.Errorf("step %d: Assign(%q) = %q, %v; want %q, %v", i, st.s.id, c, isNew, st.cluster, st.isNew)
				}
			}
		})
	}
}

// TestAssignMostSimilar: a story close to two clusters joins the closer one.
func TestAssignMostSimilar(t *testing.T) {
	ix := NewIndex(Options{})
	const summary = "The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid for besieged Ukraine and its European allies."
	ix.Add("far", "far", Sign("Lawmakers Approve Aid", summary+" Lawmakers debated the bill for three weeks before a vote late on Thursday night."), t0)
	ix.Add("near", "near", Sign("Senate Approves Ukraine Aid", summary), t0)
	if c, _ := ix.Assign("new", Sign("Senate Approves Ukraine Aid Package", summary), t0.Add(time.Hour)); c != "near" {
		t.Errorf("joined %q, want the closer story's cluster %q", c, "near")
	}
}

func TestExpire(t *testing.T) {
	ix := NewIndex(Options{Window: 24 * time.Hour})
	for i := range 10 {
		s := Sign(fmt.Sprintf("Story number %d about topic %d", i, i), fmt.Sprintf("summary words %d and more %d", i, i))
		ix.Assign(fmt.Sprint(i), s, t0.Add(time.Duration(i)*time.Hour))
	}
	tests := []struct {
		now  time.Duration
		want int
	}{
		{0, 10},
		{24 * time.Hour, 10}, // story 0 is exactly Window old: kept
		{24*time.Hour + time.Minute, 9},
		{30 * time.Hour, 4},
		{100 * time.Hour, 0},
	}
	for _, tt := range tests {
		ix.Expire(t0.Add(tt.now))
		if got := ix.Len(); got != tt.want {
			t.Errorf("after Expire(t0+%v): Len = %d, want %d", tt.now, got, tt.want)
		}
	}
	// An expired story is gone: its copy starts a new cluster, and its id is free.
	if c, isNew := ix.Assign("copy", Sign("Story number 0 about topic 0", "summary words 0 and more 0"), t0.Add(100*time.Hour)); c != "copy" || !isNew {
		t.Errorf("copy of an expired story: %q, %v; want a new cluster", c, isNew)
	}
	if c, isNew := ix.Assign("0", Sign("Another text", "entirely"), t0.Add(100*time.Hour)); c != "0" || !isNew {
		t.Errorf("reused id of an expired story: %q, %v; want a new cluster", c, isNew)
	}
}

// TestAddReplaces: Add of an id already indexed replaces it, and the old
// entry neither answers nor expires the new one.
func TestAddReplaces(t *testing.T) {
	ix := NewIndex(Options{})
	ix.Add("a", "a", aid.sig(), t0)
	ix.Add("a", "x", election.sig(), t0.Add(48*time.Hour))
	if ix.Len() != 1 {
		t.Fatalf("Len = %d, want 1", ix.Len())
	}
	if c, _ := ix.Assign("b", aidWire.sig(), t0.Add(49*time.Hour)); c != "b" {
		t.Errorf("copy of the replaced text joined %q, want a new cluster", c)
	}
	ix.Expire(t0.Add(80 * time.Hour)) // past the old time, not the new one
	if c, _ := ix.Assign("c", election.sig(), t0.Add(80*time.Hour)); c != "x" {
		t.Errorf("copy of the new text joined %q, want %q", c, "x")
	}
}

// TestAssignIdentical is a property: a story whose text is identical to an
// indexed one always joins that story's cluster.
func TestAssignIdentical(t *testing.T) {
	stories := readLabelled(t, "testdata/labelled.jsonl")
	ix := NewIndex(Options{})
	clusters := map[string]string{}
	for i, s := range stories {
		sig := Sign(s.Title, s.Summary)
		c, _ := ix.Assign(s.ID, sig, t0.Add(time.Duration(i)*time.Second))
		clusters[s.ID] = c
	}
	for i, s := range stories {
		sig := Sign(s.Title, s.Summary)
		c, isNew := ix.Assign(s.ID+"/copy", sig, t0.Add(time.Duration(i)*time.Second+time.Hour))
		if c != clusters[s.ID] || isNew {
			t.Errorf("copy of %s: %q, %v; want %q, false", s.ID, c, isNew, clusters[s.ID])
		}
	}
}

// TestConcurrent runs Assign, Add, Expire and Len from many goroutines (run
// with -race); copies of one text must still make exactly one cluster.
func TestConcurrent(t *testing.T) {
	ix := NewIndex(Options{})
	const workers, each = 8, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	clusters, news := map[string]bool{}, 0
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				at := t0.Add(time.Duration(i) * time.Minute)
				c, isNew := ix.Assign(fmt.Sprintf("copy-%d-%d", w, i), aid.sig(), at)
				other := Sign(fmt.Sprintf("Unrelated story %d from worker %d", i, w), fmt.Sprintf("text %d %d", w, i))
				ix.Add(fmt.Sprintf("other-%d-%d", w, i), "other", other, at)
				ix.Expire(t0.Add(-time.Hour))
				_ = ix.Len()
				mu.Lock()
				clusters[c] = true
				if isNew {
					news++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(clusters) != 1 || news != 1 {
		t.Errorf("copies of one text made %d clusters, %d new; want 1, 1", len(clusters), news)
	}
	if got := ix.Len(); got != 2*workers*each {
		t.Errorf("Len = %d, want %d", got, 2*workers*each)
	}
}

// TestCrowdedBucket: copies beyond what a bucket keeps still join, and
// removing them leaves the index sound.
func TestCrowdedBucket(t *testing.T) {
	ix := NewIndex(Options{})
	n := 3 * maxChain
	for i := range n {
		if c, _ := ix.Assign(fmt.Sprint(i), aid.sig(), t0.Add(time.Duration(i)*time.Minute)); c != "0" {
			t.Fatalf("copy %d joined %q, want %q", i, c, "0")
		}
	}
	// Expire the older half; the newer half is within the window of "late".
	ix.Expire(t0.Add(72*time.Hour + time.Duration(n/2)*time.Minute))
	if c, _ := ix.Assign("late", aid.sig(), t0.Add(72*time.Hour+time.Duration(n/2)*time.Minute)); c != "0" {
		t.Errorf("copy after partial expiry joined %q, want %q", c, "0")
	}
	ix.Expire(t0.Add(1000 * time.Hour))
	if ix.Len() != 0 {
		t.Errorf("Len after expiring all = %d, want 0", ix.Len())
	}
	for b := range ix.buckets {
		if len(ix.buckets[b]) != 0 {
			t.Fatalf("band %d keeps %d buckets after all expired", b, len(ix.buckets[b]))
		}
	}
	if len(ix.heads) != 0 {
		t.Errorf("%d headline buckets after all expired", len(ix.heads))
	}
}

func TestOptions(t *testing.T) {
	// A higher threshold keeps the re-titled copy apart; a longer window
	// reaches back further.
	ix := NewIndex(Options{Threshold: 0.95, Window: 100 * time.Hour})
	ix.Assign("aid", aid.sig(), t0)
	if c, _ := ix.Assign("wire", aidWire.sig(), t0.Add(time.Hour)); c != "wire" {
		t.Errorf("threshold 0.95: copy joined %q", c)
	}
	if c, _ := ix.Assign("again", aid.sig(), t0.Add(99*time.Hour)); c != "aid" {
		t.Errorf("window 100h: identical text 99h later joined %q, want %q", c, "aid")
	}
	for _, tt := range []struct {
		t    float64
		want int
	}{{0.45, 116}, {1, numHashes}, {2, numHashes}, {1e-9, 2}} {
		if got := needed(tt.t); got != tt.want {
			t.Errorf("needed(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

package cluster

import (
	"slices"
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

// pool files stories under their Keys in memory, as a store does in rows,
// and assigns new ones through a Judge as the runtime does: the candidates
// are the filed stories that share a key with the new one. It counts, as a
// store does, how many filed stories have each term, to weigh new facts.
type pool struct {
	judge   *Judge
	byKey   map[uint64][]int
	filed   []Candidate
	cluster []string
	df      map[uint32]int64
	n       int64
	why     map[string][]string // story id → the shared terms that joined it by its facts
	// lastCandidates is the number of candidates the last assignment judged.
	lastCandidates int
	// alone files every story as a cluster of its own for the judge (an
	// empty Candidate.Cluster), which then judges each candidate alone.
	alone bool
}

func newPool(o Options) *pool {
	return &pool{judge: NewJudge(o), byKey: map[uint64][]int{}, df: map[uint32]int64{}, why: map[string][]string{}}
}

// weigh weighs facts by the terms of the stories filed so far.
func (p *pool) weigh(f *Facts) {
	f.Weigh(p.n, func(t uint32) int64 { return p.df[t] })
}

// add files a story whose cluster is known.
func (p *pool) add(sig Signature, cluster string, at time.Time) {
	p.addFacts(sig, Facts{}, cluster, at)
}

// addFacts files a story with weighed facts, and counts its terms. The
// facts are filed as a store keeps them: through bytes, without texts.
func (p *pool) addFacts(sig Signature, facts Facts, cluster string, at time.Time) {
	if facts.Weighed() && facts.Len() > 0 {
		b, _ := facts.MarshalBinary()
		facts = Facts{}
		if err := facts.UnmarshalBinary(b); err != nil {
			panic(err)
		}
	}
	for _, k := range append(sig.Keys(), facts.Keys()...) {
		p.byKey[k] = append(p.byKey[k], len(p.filed))
	}
	if facts.Len() > 0 {
		p.n++
		for _, t := range facts.Terms() {
			p.df[t]++
		}
	}
	c := Candidate{Sig: sig, Facts: facts, At: at, Cluster: cluster}
	if p.alone {
		c.Cluster = ""
	}
	p.filed = append(p.filed, c)
	p.cluster = append(p.cluster, cluster)
}

// assign finds the cluster of a new story by its signature alone and files
// it; isNew reports whether it starts its own.
func (p *pool) assign(id string, sig Signature, at time.Time) (cluster string, isNew bool) {
	c, _ := p.assignFacts(id, sig, Facts{}, at)
	return c, c == id
}

// assignStory signs, extracts and weighs a story's text and assigns it.
func (p *pool) assignStory(id, title, summary string, at time.Time) (cluster string, v Verdict) {
	facts := Extract(title, summary)
	p.weigh(&facts)
	return p.assignFacts(id, Sign(title, summary), facts, at)
}

// assignFacts finds the cluster of a new story by its signature and weighed
// facts, and files it.
func (p *pool) assignFacts(id string, sig Signature, facts Facts, at time.Time) (string, Verdict) {
	idx := p.candidates(sig, facts)
	cands := make([]Candidate, len(idx))
	for i, j := range idx {
		cands[i] = p.filed[j]
	}
	cluster := id
	p.lastCandidates = len(cands)
	v := p.judge.Decide(&sig, &facts, at, cands)
	if v.Index >= 0 {
		j := idx[v.Index]
		cluster = p.cluster[j]
		if v.ByFacts {
			p.why[id] = Shared(&facts, &cands[v.Index].Facts, 8)
		}
		if p.filed[j].Sig.Same(sig) {
			// As the store does: a verbatim copy is not filed, its terms
			// are not counted, and the story it copies counts as seen now.
			p.filed[j].At = later(p.filed[j].At, at)
			return cluster, v
		}
	}
	p.addFacts(sig, facts, cluster, at)
	return cluster, v
}

// candidates returns the filed stories, by index, that share a key with a
// story of this signature and facts: the newest PerKey under each key.
func (p *pool) candidates(sig Signature, facts Facts) []int {
	var idx []int
	for _, k := range append(sig.Keys(), facts.Keys()...) {
		list := p.byKey[k]
		idx = append(idx, list[max(len(list)-PerKey, 0):]...)
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// step is one assignment of a scenario: of a story at t0 plus after (or,
// when add is set, the filing of one whose cluster is known), and the
// answer it must give.
type step struct {
	s       story
	after   time.Duration
	add     string // file with this cluster id instead of assigning
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
		{"a copy joins the cluster of earlier stories", []step{
			{s: aid, after: -48 * time.Hour, add: "aid"},
			{s: aidCaps, after: -47 * time.Hour, add: "aid"},
			{s: election, after: -10 * time.Hour, add: "election"},
			{s: aidWire, cluster: "aid"},
		}},
		{"a filed story keeps the cluster it was given", []step{
			{s: aidCaps, after: -47 * time.Hour, add: "first-story-gone"},
			{s: aidWire, cluster: "first-story-gone"},
		}},
		{"a story with no words never joins", []step{
			{s: story{"empty-1", "!!!", ""}, cluster: "empty-1", isNew: true},
			{s: story{"empty-2", "!!!", ""}, cluster: "empty-2", isNew: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(Options{})
			for i, st := range tt.steps {
				at := t0.Add(st.after)
				if st.add != "" {
					p.add(st.s.sig(), st.add, at)
					continue
				}
				c, isNew := p.assign(st.s.id, st.s.sig(), at)
				if c != st.cluster || isNew != st.isNew {
					t.Errorf("step %d: assign(%q) = %q, %v; want %q, %v", i, st.s.id, c, isNew, st.cluster, st.isNew)
				}
			}
		})
	}
}

// TestBestMostSimilar: a story close to two stories joins the closer one.
func TestBestMostSimilar(t *testing.T) {
	const summary = "The Senate has given final congressional approval to a $13.6 billion emergency package of military and humanitarian aid for besieged Ukraine and its European allies."
	cands := []Candidate{
		{Sig: Sign("Lawmakers Approve Aid", summary+" Lawmakers debated the bill for three weeks before a vote late on Thursday night."), At: t0},
		{Sig: Sign("Senate Approves Ukraine Aid", summary), At: t0},
	}
	sig := Sign("Senate Approves Ukraine Aid Package", summary)
	if got := NewJudge(Options{}).Best(&sig, t0.Add(time.Hour), cands); got != 1 {
		t.Errorf("Best = %d, want the closer story (1)", got)
	}
}

// TestAssignIdentical is a property: a story whose text is identical to a
// filed one always joins that story's cluster.
func TestAssignIdentical(t *testing.T) {
	stories := readLabelled(t, "testdata/labelled.jsonl")
	p := newPool(Options{})
	clusters := map[string]string{}
	for i, s := range stories {
		c, _ := p.assign(s.ID, Sign(s.Title, s.Summary), t0.Add(time.Duration(i)*time.Second))
		clusters[s.ID] = c
	}
	for i, s := range stories {
		c, isNew := p.assign(s.ID+"/copy", Sign(s.Title, s.Summary), t0.Add(time.Duration(i)*time.Second+time.Hour))
		if c != clusters[s.ID] || isNew {
			t.Errorf("copy of %s: %q, %v; want %q, false", s.ID, c, isNew, clusters[s.ID])
		}
	}
}

// TestKeys: equal texts have equal keys, a copy shares some, an unrelated
// text none; an empty text has none, and the headline key comes last.
func TestKeys(t *testing.T) {
	if k := Sign("", "").Keys(); k != nil {
		t.Errorf("empty text: keys %v", k)
	}
	a, b, c := aid.sig().Keys(), aidWire.sig().Keys(), election.sig().Keys()
	if len(a) != NumKeys+1 || len(election.sig().Keys()) != NumKeys {
		t.Errorf("keys: %d for a long headline, %d for a short one; want %d and %d", len(a), len(c), NumKeys+1, NumKeys)
	}
	shared := func(x, y []uint64) int {
		n := 0
		for _, k := range x {
			for _, l := range y {
				if k == l {
					n++
				}
			}
		}
		return n
	}
	if shared(a, aid.sig().Keys()) != len(a) || shared(a, b) == 0 || shared(a, c) != 0 {
		t.Errorf("shared keys: self %d of %d, copy %d, other event %d", shared(a, aid.sig().Keys()), len(a), shared(a, b), shared(a, c))
	}
}

func TestOptions(t *testing.T) {
	// A higher threshold keeps the re-titled copy apart; a longer window
	// reaches back further.
	p := newPool(Options{Threshold: 0.95, Window: 100 * time.Hour})
	p.assign("aid", aid.sig(), t0)
	if c, _ := p.assign("wire", aidWire.sig(), t0.Add(time.Hour)); c != "wire" {
		t.Errorf("threshold 0.95: copy joined %q", c)
	}
	if c, _ := p.assign("again", aid.sig(), t0.Add(99*time.Hour)); c != "aid" {
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

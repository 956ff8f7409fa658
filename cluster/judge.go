package cluster

import (
	"math"
	"time"
)

// Defaults of Options.
const (
	DefaultWindow         = 72 * time.Hour
	DefaultThreshold      = 0.45
	DefaultShortThreshold = 0.8
	DefaultFactsThreshold = 0.575
)

// PerKey bounds the candidates worth fetching under one key: the newest
// ones. Copies of one wire text crowd all of its keys, and their newest are
// enough to find its cluster; a key that a common phrase makes crowded says
// little of any one event, and a story of the same event shares its other
// keys too. The bound keeps a lookup cheap: on the corpus the most crowded
// key is shared by 1.2 % of the stories.
const PerKey = 16

// Options tune a Judge. Zero fields take the defaults.
type Options struct {
	// Window is how far apart in time two stories may be and still be one
	// event. Default 72 hours.
	Window time.Duration
	// Threshold is the estimated Jaccard similarity of two signatures from
	// which they are one event. Default 0.45 (see docs/PERFORMANCE.md for the
	// precision and recall behind it).
	Threshold float64
	// ShortThreshold replaces Threshold when either signature is Short.
	// Default 0.8.
	ShortThreshold float64
	// FactsThreshold is the same-event model's probability that a story
	// is one more version of the event of a cluster (see Judge.Decide),
	// from which it joins the cluster though its wording differs. Default
	// 0.575, the lowest where cross-validation over the training sets gave
	// the precision that the judge had at its default, 0.55, before rare
	// words counted as distinctive terms (distinctive), on the same sets,
	// with a point more recall; negative turns the facts off.
	// docs/PERFORMANCE.md gives precision and recall across it on sets the
	// model was not fitted to.
	FactsThreshold float64
}

// Candidate is an earlier story that shares a key with a new one.
type Candidate struct {
	Sig   Signature
	Facts Facts     // weighed; empty for a story filed without them
	At    time.Time // when it was first seen
	// Cluster is the id of the cluster the story is in. A new story's
	// facts are judged against a cluster's candidates together (see
	// Judge.Decide); "" puts the candidate in a cluster of its own.
	Cluster string
}

// Judge decides which earlier story, if any, a new story is one event with.
// It holds no stories: the caller finds the candidates (the stories filed
// under the new signature's Keys, within Window) and Best picks among them.
// It is safe for concurrent use.
type Judge struct {
	window    time.Duration
	need      int // matching hash values to join, of numHashes
	needShort int
	facts     float64 // FactsThreshold; < 0 off
	model     *model
}

// NewJudge returns a judge with the given options.
func NewJudge(o Options) *Judge {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	if o.ShortThreshold <= 0 {
		o.ShortThreshold = DefaultShortThreshold
	}
	if o.FactsThreshold == 0 {
		o.FactsThreshold = DefaultFactsThreshold
	}
	return &Judge{window: o.Window, need: needed(o.Threshold), needShort: needed(o.ShortThreshold),
		facts: o.FactsThreshold, model: theModel}
}

// Window returns how far apart two stories may be and still be one event.
func (j *Judge) Window() time.Duration { return j.window }

// needed turns a similarity threshold into the count of agreeing hash
// values at which Similarity reaches it, at least one and at most all.
func needed(t float64) int {
	return min(max(int(math.Ceil((chance+(1-chance)*t)*numHashes-1e-9)), 1), numHashes)
}

// Verdict is a Judge's answer for one new story.
type Verdict struct {
	// Index is the candidate the story is one event with, or -1.
	Index int
	// Score is its similarity: the estimated Jaccard similarity of the
	// signatures, or the model's probability that the story is one more
	// version of the event of the candidate's cluster, whichever joined
	// them.
	Score float64
	// ByFacts is true when the facts joined them and the wording did not.
	ByFacts bool
}

// Best returns the index of the candidate that a story of signature sig,
// seen at at, is one event with, judged by the signatures alone (see
// Decide); -1 when none is.
func (j *Judge) Best(sig *Signature, at time.Time, cands []Candidate) int {
	return j.Decide(sig, nil, at, cands).Index
}

// Decide returns the candidate that a story of signature sig and weighed
// facts (nil: none), seen at at, is one event with, among those within
// Window of at. The new story joins
//
//   - a candidate whose signature's estimated similarity reaches the
//     threshold (Options.ShortThreshold when either text is Short), or
//     that has the same long headline: a copy of one text; or
//   - a cluster (Candidate.Cluster) of which it is one more version by the
//     same-event model's probability, at Options.FactsThreshold or more:
//     the same event in other words. The verdict names the cluster's
//     candidate of the highest probability.
//
// The model (model.bin) is a small neural network fitted to hand-labelled
// sets of events, their rewrites and their near misses. It weighs how much
// of their names, numbers and words the stories share (each term by its
// rarity among the stored stories), how much of each headline the other
// story has, how alike their words are in meaning ("topple" and "oust";
// see vectorData), the time between them, and the words of either
// headline that the other lacks: "shares", "aftershock" or "women's" there
// mark another event of the same day more often than a rewrite.
//
// The model judges each pair of the new story and a candidate it shares at
// least two distinctive names, numbers or rare words with (distinctive),
// and then each cluster as a whole, its cluster stage (clusterFeatures):
// the mean and the highest of its pairs' probabilities, how many of its
// candidates share that much, how much of the new headline and of the new
// story's names and numbers some candidate of the cluster has, and the time
// to the nearest. A cluster is not judged by its closest story alone: the
// share move after an order names the buyer and the amount, as the order's
// wire story does, but not the rewrites that tell the order in other words,
// while a rewrite is close to most of the versions of its event, and a
// version in other words shares one name with one version and another with
// the next. A cluster whose pairs leave it short of the threshold whatever
// its other candidates have (model.clusterCeiling) is not read further.
//
// The highest score wins, the earlier candidate on a tie. An empty
// signature joins nothing.
func (j *Judge) Decide(sig *Signature, facts *Facts, at time.Time, cands []Candidate) Verdict {
	v := Verdict{Index: -1}
	if sig.Empty() {
		return v
	}
	useFacts := j.facts >= 0 && facts != nil && facts.norm > 0
	var ix termIndex
	if useFacts {
		ix.index(facts)
	}
	// prob is each candidate's probability by the model; -1 when the
	// facts do not judge it.
	var buf [64]float64
	prob := buf[:0]
	if len(cands) > len(buf) {
		prob = make([]float64, 0, len(cands))
	}
	for i := range cands {
		prob = append(prob, -1)
		c := &cands[i]
		d := c.At.Sub(at)
		if d > j.window || d < -j.window || c.Sig.Empty() {
			continue
		}
		if useFacts && c.Facts.norm > 0 {
			prob[i] = j.sameEvent(sig, facts, &ix, &c.Sig, &c.Facts, d)
		}
		m := matches(sig, &c.Sig)
		need := j.need
		if sig.Short() || c.Sig.Short() {
			need = j.needShort
		}
		if m >= need || sig.headline != 0 && sig.headline == c.Sig.headline {
			v = v.better(i, max(0, (float64(m)/numHashes-chance)/(1-chance)), false, cands)
		}
	}
	for i := range cands {
		if prob[i] < 0 {
			continue
		}
		g := judgedSums(i, cands, prob, at)
		if j.model.clusterCeiling(&g, len(cands)) >= j.facts {
			g.addMembers(i, cands, &ix, facts, at, j.window)
			x := clusterFeatures(facts, &g)
			if f := j.model.clusterProbability(&x); f >= j.facts {
				v = v.better(g.best, f, true, cands)
			}
		}
		for k := i + 1; k < len(cands) && cands[i].Cluster != ""; k++ {
			if cands[k].Cluster == cands[i].Cluster {
				prob[k] = -1 // judged with i
			}
		}
	}
	return v
}

// better returns the verdict for candidate i at score when that is higher
// than v's, or as high and the candidate earlier; v otherwise.
func (v Verdict) better(i int, score float64, byFacts bool, cands []Candidate) Verdict {
	if v.Index < 0 || score > v.Score || score == v.Score && cands[i].At.Before(cands[v.Index].At) {
		return Verdict{Index: i, Score: score, ByFacts: byFacts}
	}
	return v
}

// minStrong is the number of distinctive terms two stories must share to
// be one event by their facts: one name is a topic, not an event.
const minStrong = 2

// sameEvent is the model's probability that two stories d apart are one
// event, or -1 when they share fewer than minStrong distinctive terms and
// the facts say nothing of them; ix indexes a's terms.
func (j *Judge) sameEvent(sa *Signature, a *Facts, ix *termIndex, sb *Signature, b *Facts, d time.Duration) float64 {
	var buf [16]uint32
	x, novel, ok := pairFeatures(sa, a, ix, sb, b, d, buf[:0])
	if !ok {
		return -1
	}
	return j.model.probability(&x, novel)
}

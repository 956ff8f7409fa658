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
}

// Candidate is an earlier story that shares a key with a new one.
type Candidate struct {
	Sig Signature
	At  time.Time // when it was first seen
}

// Judge decides which earlier story, if any, a new story is one event with.
// It holds no stories: the caller finds the candidates (the stories filed
// under the new signature's Keys, within Window) and Best picks among them.
// It is safe for concurrent use.
type Judge struct {
	window    time.Duration
	need      int // matching hash values to join, of numHashes
	needShort int
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
	return &Judge{window: o.Window, need: needed(o.Threshold), needShort: needed(o.ShortThreshold)}
}

// Window returns how far apart two stories may be and still be one event.
func (j *Judge) Window() time.Duration { return j.window }

// needed turns a similarity threshold into the count of agreeing hash
// values at which Similarity reaches it, at least one and at most all.
func needed(t float64) int {
	return min(max(int(math.Ceil((chance+(1-chance)*t)*numHashes-1e-9)), 1), numHashes)
}

// Best returns the index of the candidate that a story of signature sig,
// seen at at, is one event with: the most similar one within Window of at
// whose estimated similarity reaches the threshold (Options.ShortThreshold
// when either text is Short), or that has the same long headline; the
// earlier one on a tie. It returns -1 when none is, and always for an empty
// signature.
func (j *Judge) Best(sig *Signature, at time.Time, cands []Candidate) int {
	if sig.Empty() {
		return -1
	}
	best, bestMatches := -1, 0
	for i := range cands {
		c := &cands[i]
		if d := c.At.Sub(at); d > j.window || d < -j.window || c.Sig.Empty() {
			continue
		}
		m := matches(sig, &c.Sig)
		need := j.need
		if sig.Short() || c.Sig.Short() {
			need = j.needShort
		}
		sameHeadline := sig.headline != 0 && sig.headline == c.Sig.headline
		if m < need && !sameHeadline {
			continue
		}
		if best < 0 || m > bestMatches || (m == bestMatches && c.At.Before(cands[best].At)) {
			best, bestMatches = i, m
		}
	}
	return best
}

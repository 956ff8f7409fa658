package rules

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Engine holds many compiled rules and matches stories against them. Rules can
// be added, replaced and removed while Matchers match. Use NewEngine; the zero
// Engine is not ready.
//
// Design: matching reads an immutable snapshot through an atomic pointer and
// takes no lock while nothing waits to be published. A snapshot is a large
// base index plus a small delta index (rules added or replaced since the base
// was built) and a bitmap of base rules no longer in force. Set and Remove
// change the rule table under a mutex and, while the delta is small (up to
// eagerDelta rules), publish a new snapshot at once by rebuilding only the
// delta, which takes well under a millisecond. Past that, changes are
// batched: the next Match (or Flush) publishes them, rebuilding the delta, or
// the whole base when the delta has grown past an eighth of the base (at
// least eagerDelta, at most maxDelta rules) or a quarter of the base is dead.
// A bulk load of many rules thus costs one build; a rule added in chat costs
// a rebuild of the delta. A Match that starts after Set returns sees the
// change: only then, when a batch waits, does a Match wait for (or do) its
// publication.
type Engine struct {
	snap  atomic.Pointer[snapshot]
	dirty atomic.Bool // changes wait to be published

	mu       sync.Mutex
	rules    map[string]*entry
	seq      uint64
	base     *index
	baseDead []uint64 // base slots out of force, in the writer's working copy
	numDead  int
	delta    map[string]*entry

	// regexBudget is the regular expression time per story, in
	// nanoseconds (0: DefaultRegexBudget).
	regexBudget atomic.Int64
}

// entry is the writer's record of one rule.
type entry struct {
	name   string
	q      *Query
	seq    uint64 // position: when its name was first added
	inBase bool
	slot   uint32 // base slot, when inBase
}

// snapshot is what Matchers read: immutable once published.
type snapshot struct {
	base  *index
	dead  []uint64
	delta *index
}

// Thresholds of the publishing policy.
const (
	eagerDelta = 256  // publish in Set/Remove while the delta has at most this many rules
	maxDelta   = 1024 // past this, rebuild the base
)

// empty is the index of no rules.
var empty = buildIndex(nil)

// NewEngine returns an engine with no rules.
func NewEngine() *Engine {
	e := &Engine{rules: map[string]*entry{}, delta: map[string]*entry{}, base: empty}
	e.snap.Store(&snapshot{base: empty, delta: empty})
	return e
}

// Set adds the rule name, or replaces its query; a replaced rule keeps its
// position in the order of matches. A nil q removes the rule.
func (e *Engine) Set(name string, q *Query) {
	if q == nil {
		e.Remove(name)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	en := &entry{name: name, q: q}
	if old, ok := e.rules[name]; ok {
		en.seq = old.seq
		e.retire(old)
	} else {
		e.seq++
		en.seq = e.seq
	}
	e.rules[name] = en
	e.delta[name] = en
	e.changed()
}

// Remove removes the rule name, if there is one.
func (e *Engine) Remove(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old, ok := e.rules[name]
	if !ok {
		return
	}
	delete(e.rules, name)
	e.retire(old)
	e.changed()
}

// retire takes a rule's old version out of force.
func (e *Engine) retire(old *entry) {
	if old.inBase {
		if e.baseDead == nil {
			e.baseDead = make([]uint64, (e.base.numRules()+63)/64)
		}
		e.baseDead[old.slot/64] |= 1 << (old.slot % 64)
		e.numDead++
	} else {
		delete(e.delta, old.name)
	}
}

// changed publishes at once when that is cheap, else leaves it to the next
// Match or Flush.
func (e *Engine) changed() {
	if len(e.delta) <= eagerDelta {
		e.publish()
		return
	}
	e.dirty.Store(true)
}

// Flush publishes changes still waiting, so that the next Match does not pay
// for them. Loading many rules and then calling Flush builds the index once.
func (e *Engine) Flush() {
	if !e.dirty.Load() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dirty.Load() {
		e.publish()
	}
}

// publish builds and stores a snapshot of the rule table: the delta alone
// while it is small next to the base, else a new base.
func (e *Engine) publish() {
	limit := min(max(e.base.numRules()/8, eagerDelta), maxDelta)
	if len(e.delta) > limit || e.numDead > 0 && e.numDead > e.base.numRules()/4 {
		e.rebuildBase()
	}
	d := make([]namedQuery, 0, len(e.delta))
	for _, en := range e.delta {
		d = append(d, namedQuery{name: en.name, q: en.q, seq: en.seq})
	}
	slices.SortFunc(d, func(a, b namedQuery) int { return cmpSeq(a.seq, b.seq) })
	e.snap.Store(&snapshot{base: e.base, dead: slices.Clone(e.baseDead), delta: buildIndex(d)})
	e.dirty.Store(false)
}

// rebuildBase compiles every rule into a new base and empties the delta.
func (e *Engine) rebuildBase() {
	all := make([]namedQuery, 0, len(e.rules))
	for _, en := range e.rules {
		all = append(all, namedQuery{name: en.name, q: en.q, seq: en.seq})
	}
	slices.SortFunc(all, func(a, b namedQuery) int { return cmpSeq(a.seq, b.seq) })
	e.base = buildIndex(all)
	for i, r := range all {
		en := e.rules[r.name]
		en.inBase, en.slot = true, uint32(i)
	}
	e.baseDead, e.numDead = nil, 0
	clear(e.delta)
}

// compact folds every rule into the base and publishes it.
func (e *Engine) compact() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rebuildBase()
	e.publish()
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Len returns the number of rules.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.rules)
}

// current returns the snapshot to match against, publishing waiting changes
// first: a Match that starts after Set returns sees the change.
func (e *Engine) current() *snapshot {
	if e.dirty.Load() {
		e.Flush()
	}
	return e.snap.Load()
}

// Stats describes the published index, for benchmarks and metrics.
type Stats struct {
	Rules      int // rules in force
	Keys       int // distinct keys (words, prefixes, hosts per field namespace)
	Postings   int // entries in posting lists
	AlwaysScan int // rules with no key that must appear, checked on every story
	IndexBytes int // approximate memory held by the index
}

// Stats returns figures about the published index.
func (e *Engine) Stats() Stats {
	s := e.current()
	var st Stats
	for _, ix := range []*index{s.base, s.delta} {
		st.Keys += ix.numKeys()
		st.Postings += len(ix.post)
		st.AlwaysScan += len(ix.always)
		st.IndexBytes += ix.bytes()
		st.Rules += ix.numRules()
	}
	st.IndexBytes += 8 * len(s.dead)
	for _, w := range s.dead {
		for ; w != 0; w &= w - 1 {
			st.Rules--
		}
	}
	return st
}

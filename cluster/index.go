package cluster

import (
	"math"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultWindow         = 72 * time.Hour
	DefaultThreshold      = 0.45
	DefaultShortThreshold = 0.8
)

// LSH banding: the first 2*numBands values of a signature (16 bits each), in
// bands of two. Two stories land in a common bucket with probability
// 1-(1-J²)^24, where J is the Jaccard similarity of their shingles: 0.9956 at
// J = 0.45, 0.9998 at J = 0.55, but only 0.21 at J = 0.1, so unrelated stories
// are seldom even compared.
const (
	numBands = 24
	bandRows = 2
)

// maxChain bounds the stories kept in one bucket: the newest ones. Only
// copies of one text crowd a bucket that much, and the newest copies are
// enough to find its cluster; the bound keeps Assign and removal cheap.
const maxChain = 64

// Options tune an Index. Zero fields take the defaults.
type Options struct {
	// Window is how far apart in time two stories may be and still be one
	// event; Expire(now) drops the stories older than now minus Window.
	// Default 72 hours.
	Window time.Duration
	// Threshold is the estimated Jaccard similarity of two signatures from
	// which they are one event. Default 0.45 (see docs/PERFORMANCE.md for the
	// precision and recall behind it).
	Threshold float64
	// ShortThreshold replaces Threshold when either signature is Short.
	// Default 0.8.
	ShortThreshold float64
}

// Index finds the cluster of a new story among the recent ones. It is safe
// for concurrent use.
type Index struct {
	window    int64 // nanoseconds
	need      int   // matching hash values to join, of numHashes
	needShort int

	mu      sync.Mutex
	byID    map[string]uint32
	pages   []*[pageSize]entry // entry i is pages[i/pageSize][i%pageSize]
	count   uint32             // entries ever allocated
	free    []uint32
	buckets [numBands]map[uint32]uint32 // band key → newest entry + 1
	heads   map[uint64]uint32           // headline hash → newest entry + 1
	expiry  expiryHeap
	stamp   uint32 // marks the entries one Assign has looked at
}

// pageSize is the number of entries allocated at a time: in pages rather
// than one growing slice, so that the index never holds a doubled copy.
const pageSize = 1024

// entry is one indexed story.
type entry struct {
	id, cluster string
	at          int64 // Unix nanoseconds
	sig         Signature
	next        [numBands]uint32 // next older entry + 1 in the same bucket, 0 at the end
	nextHead    uint32           // next older entry + 1 with the same headline
	linked      uint32           // buckets that hold this entry: bit b for band b, bit numBands for the headline
	gen         uint32           // incremented each time the entry is reused
	seen        uint32           // the stamp of the last Assign that looked at it
}

// NewIndex returns an empty index.
func NewIndex(o Options) *Index {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	if o.ShortThreshold <= 0 {
		o.ShortThreshold = DefaultShortThreshold
	}
	ix := &Index{
		window:    int64(o.Window),
		need:      needed(o.Threshold),
		needShort: needed(o.ShortThreshold),
		byID:      map[string]uint32{},
		heads:     map[uint64]uint32{},
	}
	for b := range ix.buckets {
		ix.buckets[b] = map[uint32]uint32{}
	}
	return ix
}

// needed turns a similarity threshold into the count of agreeing hash
// values at which Similarity reaches it, at least one and at most all.
func needed(t float64) int {
	return min(max(int(math.Ceil((chance+(1-chance)*t)*numHashes-1e-9)), 1), numHashes)
}

// Assign finds the cluster of a story published (or first seen) at at: the
// cluster of the most similar indexed story within Window of at whose
// estimated similarity reaches the threshold (the older story on a tie), else
// a new cluster whose id is the story's own id. It then indexes the story.
// isNew reports whether the story started a new cluster, that is whether it
// is to be alerted. A story whose text had no words starts a cluster of its
// own. Assigning an id that is already indexed changes nothing and returns
// its cluster again, with isNew true when the cluster is its own.
func (ix *Index) Assign(id string, sig Signature, at time.Time) (clusterID string, isNew bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if i, ok := ix.byID[id]; ok {
		c := ix.entry(i).cluster
		return c, c == id
	}
	t := at.UnixNano()
	clusterID = id
	if best := ix.best(&sig, t); best >= 0 {
		clusterID = ix.entry(uint32(best)).cluster
	}
	ix.insert(id, clusterID, sig, t)
	return clusterID, clusterID == id
}

// best returns the entry most similar to sig within the window of t that
// reaches the threshold, or -1.
func (ix *Index) best(sig *Signature, t int64) int {
	if sig.Empty() {
		return -1
	}
	ix.stamp++
	if ix.stamp == 0 { // wrapped: forget old marks
		for _, p := range ix.pages {
			for i := range p {
				p[i].seen = 0
			}
		}
		ix.stamp = 1
	}
	best, bestMatches := -1, 0
	for b := range numBands {
		n := ix.buckets[b][bandKey(sig, b)]
		for n != 0 {
			i := int(n - 1)
			e := ix.entry(uint32(i))
			n = e.next[b]
			if e.seen == ix.stamp {
				continue
			}
			e.seen = ix.stamp
			if d := e.at - t; d > ix.window || d < -ix.window {
				continue
			}
			m := matches(sig, &e.sig)
			need := ix.need
			if sig.Short() || e.sig.Short() {
				need = ix.needShort
			}
			if m < need {
				continue
			}
			if best < 0 || m > bestMatches || (m == bestMatches && e.at < ix.entry(uint32(best)).at) {
				best, bestMatches = i, m
			}
		}
	}
	if sig.headline == 0 {
		return best
	}
	for n := ix.heads[sig.headline]; n != 0; {
		i := int(n - 1)
		e := ix.entry(uint32(i))
		n = e.nextHead
		if d := e.at - t; d > ix.window || d < -ix.window {
			continue
		}
		m := matches(sig, &e.sig)
		if best < 0 || m > bestMatches || (m == bestMatches && e.at < ix.entry(uint32(best)).at) {
			best, bestMatches = i, m
		}
	}
	return best
}

// Add indexes a story whose cluster is already known, as the runtime does
// when it rebuilds the index from the store at start-up; an empty clusterID
// is the story's own id. An id already indexed is replaced.
func (ix *Index) Add(id, clusterID string, sig Signature, at time.Time) {
	if clusterID == "" {
		clusterID = id
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if i, ok := ix.byID[id]; ok {
		ix.remove(i)
	}
	ix.insert(id, clusterID, sig, at.UnixNano())
}

// Expire drops the stories older than now minus Window. Call it
// periodically, for example once per poll; Assign does not expire stories by
// itself, since a story's own date may be far off.
func (ix *Index) Expire(now time.Time) {
	cutoff := now.UnixNano() - ix.window
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for len(ix.expiry) > 0 && ix.expiry[0].at < cutoff {
		x := ix.expiry.pop()
		if e := ix.entry(x.entry); e.gen == x.gen && e.id != "" {
			ix.remove(x.entry)
		}
	}
}

// Len returns the number of indexed stories.
func (ix *Index) Len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.byID)
}

// insert adds an entry and links it into the buckets of its bands.
func (ix *Index) insert(id, clusterID string, sig Signature, t int64) {
	var i uint32
	if n := len(ix.free); n > 0 {
		i = ix.free[n-1]
		ix.free = ix.free[:n-1]
	} else {
		i = ix.count
		if i%pageSize == 0 {
			ix.pages = append(ix.pages, new([pageSize]entry))
		}
		ix.count++
	}
	e := ix.entry(i)
	*e = entry{id: id, cluster: clusterID, at: t, sig: sig, gen: e.gen + 1}
	ix.byID[id] = i
	ix.expiry.push(expiryItem{at: t, entry: i, gen: e.gen})
	if sig.Empty() {
		return
	}
	for b := range numBands {
		bucket, key := ix.buckets[b], bandKey(&sig, b)
		e.next[b] = bucket[key]
		e.linked |= 1 << b
		bucket[key] = i + 1
		ix.trim(i+1, b)
	}
	if sig.headline != 0 {
		e.nextHead = ix.heads[sig.headline]
		e.linked |= 1 << numBands
		ix.heads[sig.headline] = i + 1
		ix.trim(i+1, numBands)
	}
}

// trim keeps the newest maxChain entries of the chain b that starts at head,
// unlinking the oldest one beyond them.
func (ix *Index) trim(head uint32, b int) {
	n := head
	for k := 1; k < maxChain && n != 0; k++ {
		n = *ix.entry(n - 1).link(b)
	}
	if n == 0 {
		return
	}
	last := ix.entry(n - 1).link(b)
	if *last == 0 {
		return
	}
	drop := ix.entry(*last - 1)
	*last = 0
	*drop.link(b) = 0
	drop.linked &^= 1 << b
}

// remove unlinks an entry from its buckets and frees it.
func (ix *Index) remove(i uint32) {
	e := ix.entry(i)
	for b := range numBands {
		if e.linked&(1<<b) != 0 {
			unlink(ix, ix.buckets[b], bandKey(&e.sig, b), i, b)
		}
	}
	if e.linked&(1<<numBands) != 0 {
		unlink(ix, ix.heads, e.sig.headline, i, numBands)
	}
	delete(ix.byID, e.id)
	*e = entry{gen: e.gen}
	ix.free = append(ix.free, i)
}

// entry returns entry i.
func (ix *Index) entry(i uint32) *entry {
	return &ix.pages[i/pageSize][i%pageSize]
}

// link returns the link of an entry in bucket chain b: a band, or numBands
// for the headline chain.
func (e *entry) link(b int) *uint32 {
	if b == numBands {
		return &e.nextHead
	}
	return &e.next[b]
}

// unlink removes entry i from the chain b of bucket key.
func unlink[K comparable](ix *Index, bucket map[K]uint32, key K, i uint32, b int) {
	next := *ix.entry(i).link(b)
	if bucket[key] == i+1 {
		if next == 0 {
			delete(bucket, key)
		} else {
			bucket[key] = next
		}
		return
	}
	for n := bucket[key]; n != 0; {
		l := ix.entry(n - 1).link(b)
		if *l == i+1 {
			*l = next
			return
		}
		n = *l
	}
}

// bandKey is the bucket key of band b: the 16 bits of each of its two values.
func bandKey(s *Signature, b int) uint32 {
	i := bandRows * b
	return uint32(s.mins[i]) | uint32(s.high[i])<<8 | uint32(s.mins[i+1])<<16 | uint32(s.high[i+1])<<24
}

// expiryItem is an entry in the order it expires; gen tells a stale item
// (its entry since removed or reused) from a live one.
type expiryItem struct {
	at         int64
	entry, gen uint32
}

// expiryHeap is a min-heap of expiry items by time.
type expiryHeap []expiryItem

// push adds an item.
func (h *expiryHeap) push(x expiryItem) {
	*h = append(*h, x)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p].at <= q[i].at {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

// pop removes and returns the earliest item; the heap must not be empty.
func (h *expiryHeap) pop() expiryItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(q) && q[l].at < q[small].at {
			small = l
		}
		if r := l + 1; r < len(q) && q[r].at < q[small].at {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}

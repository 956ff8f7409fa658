package rules

import (
	"math/bits"
	"regexp"
	"slices"
)

// Key namespaces. A key is a namespace byte and a normalised token (or host):
// the same word is a different key in the title/summary/content text, in the
// source name, the author, the categories and the URL. Prefix keys live in
// their field's namespace plus nsPrefix; site keys are host names.
const (
	nsText     = 1
	nsSource   = 2
	nsAuthor   = 3
	nsCategory = 4
	nsURL      = 5
	nsPrefix   = 8
	nsSite     = 16
	nsCount    = 17
)

// fieldNS is the word namespace of each field.
var fieldNS = [numFields]uint8{nsText, nsText, nsText, nsSource, nsAuthor, nsCategory, nsURL}

// maskNS returns the word namespace of a leaf's field scope: the text
// namespace for title, summary and content, else the one field's namespace.
func maskNS(m fieldMask) uint8 {
	if m&bareMask != 0 {
		return nsText
	}
	return fieldNS[bits.TrailingZeros8(uint8(m))]
}

// Leaf kinds in compiled code. A leaf's first word holds the kind (bits 0-1),
// whether its last word is a prefix (bit 2), its fields (bits 4-10) and its
// number of words (bits 12-31); a NEAR's second word holds the distance (bits
// 0-7), the second side's prefix bit (8) and number of words (12-31).
const (
	leafWord  = 0
	leafNear  = 1
	leafRegex = 2
	leafSite  = 3
)

// Code flags of a rule.
const (
	flagConj = 1 << 0 // the rule is an AND of (possibly negated) leaves
	flagDisj = 1 << 1 // the rule is an OR of (possibly negated) leaves
)

// Postfix operators of compiled code.
const (
	opcLeaf = 0
	opcNot  = 1
	opcAnd  = 2
	opcOr   = 3
)

// Limits of the posting encoding: the top bits of a posting hold how many
// keys its clause needs, the rest a rule slot (one key) or a clause id.
const (
	postBits    = 26
	postIDMask  = 1<<postBits - 1
	maxNeed     = 1<<(32-postBits) - 1
	maxClauses  = 16 // per rule, from expanding ANDs of ORs
	maxRuleSlot = postIDMask
)

// FNV-1a, the token hash the dictionary and the matcher share.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// slotHash mixes a token hash with its namespace into a table hash.
func slotHash(h uint64, ns uint8) uint64 {
	x := h ^ uint64(ns)*0x9E3779B97F4A7C15
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

// index is an immutable compiled set of rules: a dictionary of every key the
// rules mention, a posting list per key of the clauses (sets of keys that must
// all appear) it belongs to, and each rule's code. It is shared read-only by
// every Matcher; all of it is flat slices, so it costs the garbage collector
// little and keeps a rule's code in one place.
type index struct {
	// dictionary: open addressing over keys; slot = tag<<32 | id+1.
	slots      []uint64
	keyOff     []uint32 // key i is arena[keyOff[i]:keyOff[i+1]], its namespace byte first
	arena      []byte
	prefixMask [nsCount]uint64 // per namespace, bit L set when some prefix key has L bytes

	// postings: key i's postings are post[postOff[i]:postOff[i+1]].
	postOff    []uint32
	post       []uint32
	clauseRule []uint32 // clause id → rule slot, for clauses of more than one key

	// rules, by slot in the order they were first added.
	codeOff []uint32 // rule r's code is code[codeOff[r]:codeOff[r+1]]
	code    []uint32
	names   []string
	seqs    []uint64
	terms   []string // terms as reported (term.shown), by id
	regexps []*regexp.Regexp
	always  []uint32 // slots of rules with no key that must appear
	// alwaysLits holds, for each rule of always, literals one of which its
	// matches need in the folded raw text; nil when none are known.
	alwaysLits [][][]byte
	// prefixStart is a bitmap over the first two bytes (and namespace) of
	// the prefix keys: most story words need no prefix lookups at all.
	prefixStart []uint64
}

// prefixBit returns the bit of prefixStart for a word's first two bytes.
func prefixBit(ns uint8, b0, b1 byte) uint32 {
	return (uint32(b0)<<8 | uint32(b1)) ^ uint32(ns)*0x9E37&0xffff
}

func (ix *index) numKeys() int  { return len(ix.keyOff) - 1 }
func (ix *index) numRules() int { return len(ix.names) }

// lookup returns the id of the key (ns, tok) with token hash h, or -1.
func (ix *index) lookup(ns uint8, h uint64, tok []byte) int32 {
	if len(ix.slots) == 0 {
		return -1
	}
	x := slotHash(h, ns)
	mask := uint64(len(ix.slots) - 1)
	tag := x>>32 | 1
	for i := x & mask; ; i = (i + 1) & mask {
		sl := ix.slots[i]
		if sl == 0 {
			return -1
		}
		if sl>>32 == tag {
			id := uint32(sl) - 1
			k := ix.arena[ix.keyOff[id]:ix.keyOff[id+1]]
			if k[0] == ns && string(k[1:]) == string(tok) {
				return int32(id)
			}
		}
	}
}

// keyBytes returns the token of key id, without its namespace.
func (ix *index) keyBytes(id uint32) []byte { return ix.arena[ix.keyOff[id]+1 : ix.keyOff[id+1]] }

// bytes estimates the memory the index holds.
func (ix *index) bytes() int {
	n := 8*len(ix.prefixStart) + 8*len(ix.slots) + 4*len(ix.keyOff) + len(ix.arena) + 4*len(ix.postOff) + 4*len(ix.post) +
		4*len(ix.clauseRule) + 4*len(ix.codeOff) + 4*len(ix.code) + 8*len(ix.seqs) + 4*len(ix.always) +
		16*len(ix.names) + 16*len(ix.terms) + 8*len(ix.regexps)
	for _, s := range ix.names {
		n += len(s)
	}
	for _, s := range ix.terms {
		n += len(s)
	}
	return n
}

// namedQuery is a rule to compile: name, query and position.
type namedQuery struct {
	name string
	q    *Query
	seq  uint64
}

// builder compiles rules into an index.
type builder struct {
	ix      *index
	keys    map[string]uint32
	weak    []bool
	termIDs map[string]uint32
	reIDs   map[*regexp.Regexp]uint32
	postKey []uint32 // (key, posting) pairs, turned into lists at the end
	postVal []uint32
	scratch []byte
	keyBuf  []uint32   // keys of the leaves of the rule being added
	leafBuf [][]uint32 // per leaf, its keys in keyBuf
}

// buildIndex compiles rules, given in the order they were first added.
func buildIndex(rules []namedQuery) *index {
	b := &builder{
		ix:      &index{codeOff: make([]uint32, 0, len(rules)+1), names: make([]string, 0, len(rules)), seqs: make([]uint64, 0, len(rules))},
		keys:    make(map[string]uint32, len(rules)),
		termIDs: make(map[string]uint32, len(rules)),
		reIDs:   map[*regexp.Regexp]uint32{},
	}
	b.ix.keyOff = append(b.ix.keyOff, 0)
	for _, r := range rules {
		b.add(r)
	}
	b.ix.codeOff = append(b.ix.codeOff, uint32(len(b.ix.code)))
	b.finish()
	return b.ix
}

// key interns the key (ns, tok) and returns its id.
func (b *builder) key(ns uint8, tok string) uint32 {
	b.scratch = append(append(b.scratch[:0], ns), tok...)
	if id, ok := b.keys[string(b.scratch)]; ok {
		return id
	}
	ix := b.ix
	id := uint32(len(ix.keyOff) - 1)
	ix.arena = append(ix.arena, b.scratch...)
	ix.keyOff = append(ix.keyOff, uint32(len(ix.arena)))
	b.keys[string(b.scratch)] = id
	weak := false
	switch {
	case ns >= nsPrefix && ns < nsSite:
		weak = len(tok) <= 3
		ix.prefixMask[ns] |= 1 << len(tok)
		if ix.prefixStart == nil {
			ix.prefixStart = make([]uint64, 1<<16/64)
		}
		bit := prefixBit(ns, tok[0], tok[1])
		ix.prefixStart[bit/64] |= 1 << (bit % 64)
	case ns < nsPrefix:
		weak = stopWords[tok]
	}
	b.weak = append(b.weak, weak)
	return id
}

func (b *builder) term(s string) uint32 {
	if id, ok := b.termIDs[s]; ok {
		return id
	}
	id := uint32(len(b.ix.terms))
	b.ix.terms = append(b.ix.terms, s)
	b.termIDs[s] = id
	return id
}

// wordKeys appends the keys of a word, phrase or prefix term in namespace
// ns to b.keyBuf and returns them.
func (b *builder) wordKeys(t *term, ns uint8) []uint32 {
	start := len(b.keyBuf)
	for i, w := range t.words {
		if t.prefix && i == len(t.words)-1 {
			b.keyBuf = append(b.keyBuf, b.key(ns+nsPrefix, w))
		} else {
			b.keyBuf = append(b.keyBuf, b.key(ns, w))
		}
	}
	return b.keyBuf[start:len(b.keyBuf):len(b.keyBuf)]
}

// add compiles one rule: its code, and its clauses into postings.
func (b *builder) add(r namedQuery) {
	ix := b.ix
	slot := uint32(len(ix.names))
	ix.names = append(ix.names, r.name)
	ix.seqs = append(ix.seqs, r.seq)
	ix.codeOff = append(ix.codeOff, uint32(len(ix.code)))
	q := r.q

	hdr := len(ix.code)
	ix.code = append(ix.code, 0, 0, 0)
	var posMask uint64
	// per leaf, the keys that must all appear for it to hold
	b.keyBuf = b.keyBuf[:0]
	b.leafBuf = append(b.leafBuf[:0], make([][]uint32, len(q.leaves))...)
	leafKeys := b.leafBuf
	for i, l := range q.leaves {
		if l.positive {
			posMask |= 1 << i
		}
		t := l.t
		ns := maskNS(l.mask)
		switch t.kind {
		case kWord:
			keys := b.wordKeys(t, ns)
			ix.code = append(ix.code, leafWord|b2u(t.prefix)<<2|uint32(l.mask)<<4|uint32(len(keys))<<12, b.term(t.shown))
			ix.code = append(ix.code, keys...)
			leafKeys[i] = keys
		case kNear:
			start := len(b.keyBuf)
			ka, kb := b.wordKeys(t.a, ns), b.wordKeys(t.b, ns)
			ix.code = append(ix.code,
				leafNear|b2u(t.a.prefix)<<2|uint32(l.mask)<<4|uint32(len(ka))<<12,
				uint32(t.dist)|b2u(t.b.prefix)<<8|uint32(len(kb))<<12,
				b.term(t.a.shown), b.term(t.b.shown))
			ix.code = append(ix.code, ka...)
			ix.code = append(ix.code, kb...)
			leafKeys[i] = b.keyBuf[start:len(b.keyBuf):len(b.keyBuf)]
		case kRegex:
			id, ok := b.reIDs[t.re]
			if !ok {
				id = uint32(len(ix.regexps))
				ix.regexps = append(ix.regexps, t.re)
				b.reIDs[t.re] = id
			}
			ix.code = append(ix.code, leafRegex|uint32(l.mask)<<4, b.term(t.shown), id)
		case kSite:
			k := b.key(nsSite, t.host())
			ix.code = append(ix.code, leafSite|uint32(l.mask)<<4, b.term(t.shown), k)
			b.keyBuf = append(b.keyBuf, k)
			leafKeys[i] = b.keyBuf[len(b.keyBuf)-1 : len(b.keyBuf) : len(b.keyBuf)]
		}
	}
	flags := uint32(0)
	if literalsUnder(q.root, opAnd) {
		flags |= flagConj
	} else if literalsUnder(q.root, opOr) {
		flags |= flagDisj
	}
	nOps := 0
	if flags == 0 {
		before := len(ix.code)
		ix.code = emitOps(q.root, ix.code)
		nOps = len(ix.code) - before
	}
	ix.code[hdr] = uint32(len(q.leaves)) | uint32(nOps)<<8 | flags<<24
	ix.code[hdr+1] = uint32(posMask)
	ix.code[hdr+2] = uint32(posMask >> 32)

	clauses, ok := clausesOf(q.root, true, leafKeys)
	if !ok {
		ix.always = append(ix.always, slot)
		var lits [][]byte
		if l, ok := literalsOf(q.root, true); ok {
			for _, s := range l {
				lits = append(lits, []byte(s))
			}
		}
		ix.alwaysLits = append(ix.alwaysLits, lits)
		return
	}
	for _, c := range b.tidy(clauses) {
		if len(c) == 1 {
			b.postKey = append(b.postKey, c[0])
			b.postVal = append(b.postVal, 1<<postBits|slot)
			continue
		}
		id := uint32(len(ix.clauseRule))
		ix.clauseRule = append(ix.clauseRule, slot)
		for _, k := range c {
			b.postKey = append(b.postKey, k)
			b.postVal = append(b.postVal, uint32(len(c))<<postBits|id)
		}
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// literalsUnder reports whether n is a single (possibly negated) term, or an
// op node whose children all are: such rules are evaluated without postfix code.
func literalsUnder(n *node, op nodeOp) bool {
	lit := func(n *node) bool {
		for n.op == opField || n.op == opNot {
			n = n.kids[0]
		}
		return n.op == opTerm
	}
	if n.op != op {
		return op == opAnd && lit(n)
	}
	for _, k := range n.kids {
		if !lit(k) {
			return false
		}
	}
	return true
}

// emitOps appends the postfix code of n.
func emitOps(n *node, code []uint32) []uint32 {
	switch n.op {
	case opTerm:
		return append(code, opcLeaf<<24|uint32(n.leaf))
	case opNot:
		return append(emitOps(n.kids[0], code), opcNot<<24)
	case opField:
		return emitOps(n.kids[0], code)
	}
	for _, k := range n.kids {
		code = emitOps(k, code)
	}
	op := uint32(opcAnd)
	if n.op == opOr {
		op = opcOr
	}
	return append(code, op<<24|uint32(len(n.kids)))
}

// clausesOf returns clauses (sets of keys) such that whenever n has the given
// truth value... more precisely: whenever n evaluates to positive, every key
// of at least one clause appears in the story. ok false means no such set is
// known (n can hold with no key present). Negated terms and regular
// expressions contribute nothing; an AND picks the children whose clauses
// multiply to at most maxClauses.
func clausesOf(n *node, positive bool, leafKeys [][]uint32) ([][]uint32, bool) {
	switch n.op {
	case opTerm:
		k := leafKeys[n.leaf]
		if !positive || len(k) == 0 {
			return nil, false
		}
		return [][]uint32{slices.Clone(k)}, true
	case opNot:
		return clausesOf(n.kids[0], !positive, leafKeys)
	case opField:
		return clausesOf(n.kids[0], positive, leafKeys)
	}
	if (n.op == opOr) == positive {
		// A disjunction: some child holds, so one of its clauses appears.
		var all [][]uint32
		for _, k := range n.kids {
			c, ok := clausesOf(k, positive, leafKeys)
			if !ok {
				return nil, false
			}
			all = append(all, c...)
		}
		return all, true
	}
	// A conjunction: every child holds; combine the clauses of a subset of
	// the children, fewest alternatives first, while the product stays small.
	var lists [][][]uint32
	for _, k := range n.kids {
		if c, ok := clausesOf(k, positive, leafKeys); ok {
			lists = append(lists, c)
		}
	}
	if len(lists) == 0 {
		return nil, false
	}
	slices.SortStableFunc(lists, func(a, b [][]uint32) int { return len(a) - len(b) })
	out := lists[0]
	for _, l := range lists[1:] {
		if len(out)*len(l) > maxClauses {
			break
		}
		next := make([][]uint32, 0, len(out)*len(l))
		for _, a := range out {
			for _, b := range l {
				next = append(next, append(slices.Clip(a), b...))
			}
		}
		out = next
	}
	return out, true
}

// tidy sorts and dedupes each clause, keeps only its strong keys when it has
// any (stop-words and short prefixes would make long posting lists), caps
// its size, and drops clauses that contain another clause.
func (b *builder) tidy(clauses [][]uint32) [][]uint32 {
	for i, c := range clauses {
		slices.Sort(c)
		c = slices.Compact(c)
		strong := 0
		for _, k := range c {
			if !b.weak[k] {
				strong++
			}
		}
		if strong > 0 && strong < len(c) {
			c = slices.DeleteFunc(c, func(k uint32) bool { return b.weak[k] })
		}
		if len(c) > maxNeed {
			c = c[:maxNeed]
		}
		clauses[i] = c
	}
	slices.SortFunc(clauses, func(a, b []uint32) int { return len(a) - len(b) })
	out := clauses[:0]
	for _, c := range clauses {
		redundant := false
		for _, o := range out {
			if subset(o, c) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, c)
		}
	}
	return out
}

// subset reports whether sorted a is a subset of sorted b.
func subset(a, b []uint32) bool {
	i := 0
	for _, x := range b {
		if i < len(a) && a[i] == x {
			i++
		}
	}
	return i == len(a)
}

// finish builds the hash table and the posting lists.
func (b *builder) finish() {
	ix := b.ix
	n := ix.numKeys()
	size := 16
	for size < 4*n {
		size <<= 1
	}
	ix.slots = make([]uint64, size)
	mask := uint64(size - 1)
	for id := range n {
		k := ix.arena[ix.keyOff[id]:ix.keyOff[id+1]]
		x := slotHash(fnv(k[1:]), k[0])
		i := x & mask
		for ix.slots[i] != 0 {
			i = (i + 1) & mask
		}
		ix.slots[i] = (x>>32|1)<<32 | uint64(id+1)
	}
	ix.postOff = make([]uint32, n+1)
	for _, k := range b.postKey {
		ix.postOff[k+1]++
	}
	for i := 1; i <= n; i++ {
		ix.postOff[i] += ix.postOff[i-1]
	}
	ix.post = make([]uint32, len(b.postKey))
	fill := slices.Clone(ix.postOff[:n])
	for i, k := range b.postKey {
		ix.post[fill[k]] = b.postVal[i]
		fill[k]++
	}
	ix.arena = slices.Clip(ix.arena)
	ix.keyOff = slices.Clip(ix.keyOff)
	ix.code = slices.Clip(ix.code)
	ix.clauseRule = slices.Clip(ix.clauseRule)
}

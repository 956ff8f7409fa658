package rules

import (
	"bytes"
	mbits "math/bits"
	"slices"
	"time"

	"github.com/wirewatch/wirewatch/story"
)

// Match is one rule that matched a story.
type Match struct {
	// Rule is the rule's name.
	Rule string
	// Terms are the distinct positive terms that matched, in query order,
	// as Query.Eval reports them: a word, phrase or prefix as its normalised
	// words joined by one space ("u s", "export control", "export*"), a
	// regular expression as /re/ lower-cased, a site as site:host.
	Terms []string
	// Fields are the fields those terms matched in, in the order title,
	// summary, content, source, author, category, url.
	Fields []string
}

// Matcher matches stories against an Engine's rules. It holds the scratch
// space that makes matching allocation-free, so it is for one goroutine at a
// time; make one per goroutine and reuse it.
type Matcher struct {
	e    *Engine
	snap *snapshot

	// the story being matched: raw text and tokens
	raw   [numFields]string
	cats  []string
	host  []byte
	norm  []byte
	spans []span
	// folded is the raw text, case-folded, when foldedOK
	folded   []byte
	foldedOK bool
	toks     []stok

	base, delta layer
	out         []Match
	outDelta    []Match
	seqs        []uint64
	seqsDelta   []uint64
	terms       []string
	verified    int // rules verified for the last story, for tests and benchmarks
	sink        uint32

	// the regular expression budget of the story being matched: what is
	// left, whether a rule's regex was skipped for want of it, and the
	// rules given up on
	regexLeft  time.Duration
	skipped    bool
	overBudget []string

	// per-leaf results of the rule being verified
	res [MaxTerms]bool
	fm  [MaxTerms]fieldMask
}

// stok is one token of the story being matched.
type stok struct {
	off, end uint32 // its bytes, in Matcher.norm
	pos      uint32 // its position in its field; categories are apart by catGap
	field    uint8
	hash     uint64
}

// catGap separates the categories of a story, so that no phrase or NEAR
// spans two of them.
const catGap = 2 * MaxNear

// layer is a Matcher's scratch space for one index. Everything is cleared
// after each story through the lists of what was touched, so nothing grows
// with the number of stories and nothing needs resetting in full.
type layer struct {
	ix       *index
	keys     []keyState // by key id
	tokKey   []int32    // per story token: its word key, -1 for none
	occ      []occNode
	distinct []uint32 // keys present in the story
	count    []uint8  // per clause: keys of it seen so far
	touched  []uint32 // clauses with a non-zero count
	seen     []uint64 // bitmap of rules already among the candidates
	cands    []uint32
}

// keyState is where a key occurs in the story: a list of its token indexes
// (head into layer.occ, 1-based, 0 for none) and the fields it is in.
type keyState struct {
	head int32
	mask fieldMask
}

// occNode is one occurrence of a key: a story token index and the next node.
type occNode struct {
	tok  int32
	next int32
}

// NewMatcher returns a Matcher over e, for use by one goroutine.
func (e *Engine) NewMatcher() *Matcher { return &Matcher{e: e} }

// reset points a layer at an index, growing its scratch space as needed.
func (l *layer) reset(ix *index) {
	if l.ix == ix {
		return
	}
	l.ix = ix
	l.keys = grow(l.keys, ix.numKeys())
	l.count = grow(l.count, len(ix.clauseRule))
	l.seen = grow(l.seen, (ix.numRules()+63)/64)
}

// grow returns s with length n, all zero (s is kept zeroed between stories).
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// Match returns the rules matching s, in the order they were first added. The
// slice and its contents are valid until the next call on this Matcher.
func (m *Matcher) Match(s *story.Story) []Match {
	snap := m.e.current()
	if snap != m.snap {
		m.snap = snap
		m.base.reset(snap.base)
		m.delta.reset(snap.delta)
	}
	m.prepare(s)
	m.out, m.seqs = m.out[:0], m.seqs[:0]
	m.terms = m.terms[:0]
	m.verified = 0
	m.out, m.seqs = m.base.match(m, snap.dead, m.out, m.seqs)
	if snap.delta.numRules() == 0 {
		return m.out
	}
	m.outDelta, m.seqsDelta = m.delta.match(m, nil, m.outDelta[:0], m.seqsDelta[:0])
	if len(m.outDelta) == 0 {
		return m.out
	}
	// Merge by position: a replaced rule sits in the delta with its old place.
	n := len(m.out)
	m.out = append(m.out, m.outDelta...)
	m.seqs = append(m.seqs, m.seqsDelta...)
	for i := n; i < len(m.out); i++ {
		for j := i; j > 0 && m.seqs[j-1] > m.seqs[j]; j-- {
			m.seqs[j-1], m.seqs[j] = m.seqs[j], m.seqs[j-1]
			m.out[j-1], m.out[j] = m.out[j], m.out[j-1]
		}
	}
	return m.out
}

// foldedText returns the story's raw text, every field, case-folded for
// the literal checks of always-check rules; it is made at most once a story.
func (m *Matcher) foldedText() []byte {
	if !m.foldedOK {
		m.folded = m.folded[:0]
		for f := range numFields {
			if f == fCategory {
				for _, c := range m.cats {
					m.folded = append(appendFolded(m.folded, c), 0)
				}
				continue
			}
			m.folded = append(appendFolded(m.folded, m.raw[f]), 0)
		}
		m.foldedOK = true
	}
	return m.folded
}

// prepare tokenizes every field of the story once, for all rules.
func (m *Matcher) prepare(s *story.Story) {
	m.foldedOK = false
	m.regexLeft = m.e.RegexBudget()
	m.overBudget = m.overBudget[:0]
	m.raw = [numFields]string{fTitle: s.Title, fSummary: s.Summary, fContent: s.Content, fSource: s.Source, fAuthor: s.Author, fURL: s.URL}
	for f := range m.raw {
		m.raw[f] = capText(m.raw[f], fieldLimits[f])
	}
	m.cats = m.cats[:0]
	for _, c := range s.Categories {
		m.cats = append(m.cats, capText(c, fieldLimits[fCategory]))
	}
	m.norm, m.toks = m.norm[:0], m.toks[:0]
	for f := range numFields {
		if f == fCategory {
			pos := uint32(0)
			for _, c := range m.cats {
				pos = m.addTokens(c, f, pos) + catGap
			}
			continue
		}
		m.addTokens(m.raw[f], f, 0)
	}
	m.host = appendHost(m.host[:0], s.URL)
}

// addTokens tokenizes one text of field f, positions from pos; it returns the
// position after the last token.
func (m *Matcher) addTokens(text string, f int, pos uint32) uint32 {
	if text == "" {
		return pos
	}
	m.norm, m.spans = appendTokens(m.norm, m.spans[:0], text)
	for _, sp := range m.spans {
		m.toks = append(m.toks, stok{off: sp.off, end: sp.end, pos: pos, field: uint8(f), hash: fnv(m.norm[sp.off:sp.end])})
		pos++
	}
	return pos
}

// match finds, verifies and appends the rules of one layer that match the
// prepared story.
func (l *layer) match(m *Matcher, dead []uint64, out []Match, seqs []uint64) ([]Match, []uint64) {
	ix := l.ix
	if ix.numRules() == 0 {
		return out, seqs
	}
	l.lookupKeys(m)
	// Count, for each clause, how many of its keys the story has; a rule is a
	// candidate once all keys of one of its clauses are there.
	for _, k := range l.distinct {
		for _, p := range ix.post[ix.postOff[k]:ix.postOff[k+1]] {
			need := p >> postBits
			id := p & postIDMask
			if need != 1 {
				c := l.count[id]
				if c == 0 {
					l.touched = append(l.touched, id)
				}
				c++
				l.count[id] = c
				if uint32(c) != need {
					continue
				}
				id = ix.clauseRule[id]
			}
			l.candidate(id, dead)
		}
	}
	for i, r := range ix.always {
		if lits := ix.alwaysLits[i]; lits != nil && !containsAny(m.foldedText(), lits) {
			continue
		}
		l.candidate(r, dead)
	}
	l.sortCandidates()
	m.verified += len(l.cands)
	// Touch every candidate's code first: independent loads overlap, where
	// verifying one rule after another would wait for each in turn.
	var sink uint32
	for _, r := range l.cands {
		sink += ix.code[ix.codeOff[r]]
	}
	m.sink = sink
	for _, r := range l.cands {
		start := len(m.terms)
		if ok, fields := m.verify(l, r); ok {
			out = append(out, Match{Rule: ix.names[r], Terms: m.terms[start:len(m.terms):len(m.terms)], Fields: fieldsByMask[fields]})
			seqs = append(seqs, ix.seqs[r])
		} else {
			m.terms = m.terms[:start]
		}
	}
	l.clear()
	return out, seqs
}

// sortCandidates puts the candidates in rule order: by reading them off the
// bitmap of candidates when it is small next to their number, else by sorting.
func (l *layer) sortCandidates() {
	if len(l.seen) > 8*len(l.cands) {
		slices.Sort(l.cands)
		return
	}
	l.cands = l.cands[:0]
	for w, bits := range l.seen {
		for bits != 0 {
			b := uint32(mbits.TrailingZeros64(bits))
			l.cands = append(l.cands, uint32(w)*64+b)
			bits &= bits - 1
		}
	}
}

func (l *layer) candidate(r uint32, dead []uint64) {
	w, bit := r/64, uint64(1)<<(r%64)
	if l.seen[w]&bit != 0 || dead != nil && dead[w]&bit != 0 {
		return
	}
	l.seen[w] |= bit
	l.cands = append(l.cands, r)
}

// clear undoes everything one story left in the scratch space.
func (l *layer) clear() {
	for _, k := range l.distinct {
		l.keys[k] = keyState{}
	}
	for _, c := range l.touched {
		l.count[c] = 0
	}
	for _, r := range l.cands {
		l.seen[r/64] = 0
	}
	l.distinct, l.touched, l.cands, l.occ = l.distinct[:0], l.touched[:0], l.cands[:0], l.occ[:0]
}

// lookupKeys finds which of the index's keys the story's tokens are:
// each token's word key and, where the index has prefixes of its length, its
// prefix keys; and the site keys of the URL's host and its parent domains.
func (l *layer) lookupKeys(m *Matcher) {
	ix := l.ix
	l.tokKey = grow(l.tokKey, len(m.toks))
	for i := range m.toks {
		t := &m.toks[i]
		ns := fieldNS[t.field]
		b := m.norm[t.off:t.end]
		k := ix.lookup(ns, t.hash, b)
		l.tokKey[i] = k
		if k >= 0 {
			l.addOcc(uint32(k), int32(i), t.field)
		}
		pm := ix.prefixMask[ns+nsPrefix]
		if pm == 0 || len(b) < 2 {
			continue
		}
		if bit := prefixBit(ns+nsPrefix, b[0], b[1]); ix.prefixStart[bit/64]&(1<<(bit%64)) == 0 {
			continue
		}
		h := uint64(fnvOffset)
		for j, c := range b {
			h = (h ^ uint64(c)) * fnvPrime
			n := j + 1
			if n > maxPrefixBytes {
				break
			}
			if pm&(1<<n) != 0 {
				if k := ix.lookup(ns+nsPrefix, h, b[:n]); k >= 0 {
					l.addOcc(uint32(k), int32(i), t.field)
				}
			}
		}
	}
	for host := m.host; len(host) > 0; {
		if k := ix.lookup(nsSite, fnv(host), host); k >= 0 {
			l.addOcc(uint32(k), -1, fURL)
		}
		dot := bytes.IndexByte(host, '.')
		if dot < 0 {
			break
		}
		host = host[dot+1:]
	}
}

func (l *layer) addOcc(k uint32, tok int32, f uint8) {
	ks := &l.keys[k]
	if ks.head == 0 {
		l.distinct = append(l.distinct, k)
	}
	l.occ = append(l.occ, occNode{tok: tok, next: ks.head})
	ks.head = int32(len(l.occ))
	ks.mask |= 1 << f
}

// verify evaluates rule r of layer l on the prepared story. When it matches,
// its terms are appended to m.terms and the fields they matched in returned.
// A rule whose regular expression could not run for want of budget does not
// match and is recorded in m.overBudget.
func (m *Matcher) verify(l *layer, r uint32) (bool, fieldMask) {
	m.skipped = false
	ok, fields := m.eval(l, r)
	if m.skipped {
		m.overBudget = append(m.overBudget, l.ix.names[r])
		return false, 0
	}
	return ok, fields
}

// eval is verify without the budget's bookkeeping.
func (m *Matcher) eval(l *layer, r uint32) (bool, fieldMask) {
	ix := l.ix
	code := ix.code[ix.codeOff[r]:ix.codeOff[r+1]]
	hdr := code[0]
	nLeaves := int(hdr & 0xff)
	flags := hdr >> 24
	posMask := uint64(code[1]) | uint64(code[2])<<32
	res, fm := &m.res, &m.fm
	pc := 3
	for i := range nLeaves {
		lh := code[pc]
		mask := fieldMask(lh >> 4 & 0x7f)
		var f fieldMask
		switch lh & 3 {
		case leafWord:
			n := int(lh >> 12)
			keys := code[pc+2 : pc+2+n]
			f = m.phraseFields(l, keys, lh&4 != 0, mask)
			pc += 2 + n
		case leafNear:
			na, nb := int(lh>>12), int(code[pc+1]>>12)
			ka := code[pc+4 : pc+4+na]
			kb := code[pc+4+na : pc+4+na+nb]
			f = m.nearFields(l, ka, lh&4 != 0, kb, code[pc+1]&0x100 != 0, int(code[pc+1]&0xff), mask)
			pc += 4 + na + nb
		case leafRegex:
			f = m.regexFields(ix.regexps[code[pc+2]], mask)
			pc += 3
		case leafSite:
			if l.keys[code[pc+2]].head != 0 {
				f = 1 << fURL
			}
			pc += 3
		}
		fm[i] = f
		res[i] = f != 0
		if flags&flagConj != 0 && res[i] != (posMask&(1<<i) != 0) {
			return false, 0
		}
	}
	var ok bool
	switch {
	case flags&flagConj != 0:
		ok = true
	case flags&flagDisj != 0:
		for i := range nLeaves {
			if res[i] == (posMask&(1<<i) != 0) {
				ok = true
				break
			}
		}
	default:
		ok = runOps(code[pc:], res)
	}
	if !ok {
		return false, 0
	}
	start := len(m.terms)
	var fields fieldMask
	pc = 3
	for i := range nLeaves {
		lh := code[pc]
		var ids []uint32 // the leaf's term ids
		switch lh & 3 {
		case leafWord:
			ids = code[pc+1 : pc+2]
			pc += 2 + int(lh>>12)
		case leafNear:
			ids = code[pc+2 : pc+4]
			pc += 4 + int(lh>>12) + int(code[pc+1]>>12)
		default:
			ids = code[pc+1 : pc+2]
			pc += 3
		}
		if !res[i] || posMask&(1<<i) == 0 {
			continue
		}
		fields |= fm[i]
	next:
		for _, id := range ids {
			s := ix.terms[id]
			for _, have := range m.terms[start:] {
				if have == s {
					continue next
				}
			}
			m.terms = append(m.terms, s)
		}
	}
	return true, fields
}

// runOps evaluates postfix code over the leaf results.
func runOps(ops []uint32, res *[MaxTerms]bool) bool {
	var stack [MaxTerms + 1]bool
	sp := 0
	for _, op := range ops {
		arg := int(op & 0xffffff)
		switch op >> 24 {
		case opcLeaf:
			stack[sp] = res[arg]
			sp++
		case opcNot:
			stack[sp-1] = !stack[sp-1]
		case opcAnd:
			v := true
			for _, x := range stack[sp-arg : sp] {
				v = v && x
			}
			sp -= arg
			stack[sp] = v
			sp++
		case opcOr:
			v := false
			for _, x := range stack[sp-arg : sp] {
				v = v || x
			}
			sp -= arg
			stack[sp] = v
			sp++
		}
	}
	return stack[0]
}

// phraseFields returns the fields in mask where the words keys occur
// consecutively (the last one as a prefix if prefix).
func (m *Matcher) phraseFields(l *layer, keys []uint32, prefix bool, mask fieldMask) fieldMask {
	first := l.keys[keys[0]]
	if len(keys) == 1 {
		return first.mask & mask
	}
	if first.mask&mask == 0 {
		return 0
	}
	for _, k := range keys[1:] {
		if l.keys[k].mask&mask == 0 {
			return 0
		}
	}
	var found fieldMask
	for o := first.head; o != 0; o = l.occ[o-1].next {
		t := l.occ[o-1].tok
		f := fieldMask(1) << m.toks[t].field
		if mask&f == 0 || found&f != 0 {
			continue
		}
		if m.phraseAt(l, int(t), keys, prefix) {
			found |= f
		}
	}
	return found
}

// phraseAt reports whether the words keys occur from story token t on.
func (m *Matcher) phraseAt(l *layer, t int, keys []uint32, prefix bool) bool {
	if t+len(keys) > len(m.toks) {
		return false
	}
	t0 := &m.toks[t]
	for j, k := range keys {
		tj := &m.toks[t+j]
		if tj.field != t0.field || tj.pos != t0.pos+uint32(j) {
			return false
		}
		if prefix && j == len(keys)-1 {
			p := l.ix.keyBytes(k)
			b := m.norm[tj.off:tj.end]
			if len(b) < len(p) || string(b[:len(p)]) != string(p) {
				return false
			}
		} else if l.tokKey[t+j] != int32(k) {
			return false
		}
	}
	return true
}

// nearFields returns the fields in mask where phrase a and phrase b occur
// with at most dist words between them, in either order.
func (m *Matcher) nearFields(l *layer, ka []uint32, pa bool, kb []uint32, pb bool, dist int, mask fieldMask) fieldMask {
	for _, k := range ka {
		if l.keys[k].mask&mask == 0 {
			return 0
		}
	}
	for _, k := range kb {
		if l.keys[k].mask&mask == 0 {
			return 0
		}
	}
	var found fieldMask
	for o := l.keys[ka[0]].head; o != 0; o = l.occ[o-1].next {
		t := int(l.occ[o-1].tok)
		ta := &m.toks[t]
		f := fieldMask(1) << ta.field
		if mask&f == 0 || found&f != 0 || !m.phraseAt(l, t, ka, pa) {
			continue
		}
		aStart, aEnd := int(ta.pos), int(ta.pos)+len(ka)-1
		lo, hi := max(0, t-dist-len(kb)), min(len(m.toks)-1, t+len(ka)+dist)
		for u := lo; u <= hi; u++ {
			tb := &m.toks[u]
			if tb.field != ta.field {
				continue
			}
			bStart, bEnd := int(tb.pos), int(tb.pos)+len(kb)-1
			if !(aEnd < bStart && bStart-aEnd-1 <= dist || bEnd < aStart && aStart-bEnd-1 <= dist) {
				continue
			}
			if m.phraseAt(l, u, kb, pb) {
				found |= f
				break
			}
		}
	}
	return found
}

// regexFields returns the fields in mask whose raw text re matches. Each call
// of re is timed against the story's budget; once it is spent, none is made
// and m.skipped is set.
func (m *Matcher) regexFields(re interface{ MatchString(string) bool }, mask fieldMask) fieldMask {
	var found fieldMask
	for f := range numFields {
		if mask&(1<<f) == 0 {
			continue
		}
		if f == fCategory {
			for _, c := range m.cats {
				if m.regexMatch(re, c) {
					found |= 1 << f
					break
				}
			}
			continue
		}
		if m.regexMatch(re, m.raw[f]) {
			found |= 1 << f
		}
	}
	return found
}

// regexMatch runs re on text when budget is left, and charges the time.
func (m *Matcher) regexMatch(re interface{ MatchString(string) bool }, text string) bool {
	if text == "" {
		return re.MatchString(text)
	}
	if m.regexLeft <= 0 {
		m.skipped = true
		return false
	}
	start := time.Now()
	ok := re.MatchString(text)
	m.regexLeft -= time.Since(start)
	return ok
}

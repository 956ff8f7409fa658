package rules

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wirewatch/wirewatch/story"
)

// Query is a parsed, validated query. It is immutable and safe to share
// between goroutines.
type Query struct {
	src    string
	root   *node
	leaves []leaf // the terms, in query order
}

// nodeOp is the operator of a query tree node.
type nodeOp uint8

const (
	opTerm nodeOp = iota
	opAnd
	opOr
	opNot
	opField
)

// node is a node of the query tree.
type node struct {
	op    nodeOp
	field int8  // opField: the field index
	leaf  int32 // opTerm: index into Query.leaves
	pos   int32 // byte offset in the query, for errors
	kids  []*node
	t     *term // opTerm
}

// termKind is the kind of a term.
type termKind uint8

const (
	kWord  termKind = iota // a word, a phrase, or a prefix
	kNear                  // a NEAR/n b
	kRegex                 // /re/
	kSite                  // site:host
)

// term is one thing a story is checked for.
type term struct {
	kind   termKind
	prefix bool     // kWord: the last word is a prefix
	quoted bool     // kWord: written in quotes
	dist   int32    // kNear
	text   string   // as written, lower-cased (kRegex: the expression as written; kSite: site:host)
	shown  string   // how a match reports the term (see reported); "" for kNear
	words  []string // kWord: normalised tokens; consecutive when more than one
	a, b   *term    // kNear
	re     *regexp.Regexp
}

// host returns the host of a kSite term.
func (t *term) host() string { return strings.TrimPrefix(t.text, "site:") }

// leaf is a term in place: the fields it searches and whether it counts for
// the query (an even number of NOTs above it) or against it.
type leaf struct {
	t        *term
	mask     fieldMask
	positive bool
}

func newQuery(src string, root *node) *Query {
	q := &Query{src: src, root: root}
	var walk func(n *node, mask fieldMask, positive bool)
	walk = func(n *node, mask fieldMask, positive bool) {
		switch n.op {
		case opTerm:
			m := mask
			if n.t.kind == kSite {
				m = 1 << fURL
			}
			n.leaf = int32(len(q.leaves))
			q.leaves = append(q.leaves, leaf{t: n.t, mask: m, positive: positive})
		case opField:
			walk(n.kids[0], 1<<n.field, positive)
		case opNot:
			walk(n.kids[0], mask, !positive)
		default:
			for _, k := range n.kids {
				walk(k, mask, positive)
			}
		}
	}
	walk(root, bareMask, true)
	return q
}

// eval evaluates the tree given each leaf's result.
func (n *node) eval(res []bool) bool {
	switch n.op {
	case opTerm:
		return res[n.leaf]
	case opNot:
		return !n.kids[0].eval(res)
	case opField:
		return n.kids[0].eval(res)
	case opAnd:
		for _, k := range n.kids {
			if !k.eval(res) {
				return false
			}
		}
		return true
	default:
		for _, k := range n.kids {
			if k.eval(res) {
				return true
			}
		}
		return false
	}
}

// HasRegex reports whether the query has a /regular expression/: its cost
// per story is then less predictable, and lookups watch their time budget
// after every story.
func (q *Query) HasRegex() bool {
	for _, l := range q.leaves {
		if l.t.kind == kRegex {
			return true
		}
	}
	return false
}

// String returns the query in canonical form: operators spelled out in upper
// case, words lower-cased, NOT for '-', groups only where they are needed or
// help reading. Parsing the canonical form gives back the same query, unless
// spelling things out took it past MaxQueryLen or MaxDepth.
func (q *Query) String() string {
	var b strings.Builder
	q.root.format(&b, opTerm)
	return b.String()
}

// format writes n; parent is the operator around it, to decide on parentheses.
func (n *node) format(b *strings.Builder, parent nodeOp) {
	switch n.op {
	case opTerm:
		n.t.format(b)
	case opNot:
		b.WriteString("NOT ")
		n.kids[0].format(b, opNot)
	case opField:
		b.WriteString(fieldNames[n.field])
		b.WriteByte(':')
		if k := n.kids[0]; k.op == opTerm && k.t.kind != kNear {
			k.format(b, opField)
		} else {
			b.WriteByte('(')
			k.format(b, opTerm)
			b.WriteByte(')')
		}
	default:
		// Parentheses where precedence needs them, and around an AND inside
		// an OR, which reads more easily: (a AND b) OR c.
		paren := parent == opAnd || parent == opNot || n.op == opAnd && parent == opOr
		sep := " AND "
		if n.op == opOr {
			sep = " OR "
		}
		if paren {
			b.WriteByte('(')
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.format(b, n.op)
		}
		if paren {
			b.WriteByte(')')
		}
	}
}

func (t *term) format(b *strings.Builder) {
	switch t.kind {
	case kWord:
		if t.quoted {
			b.WriteByte('"')
			b.WriteString(t.text)
			b.WriteByte('"')
		} else {
			b.WriteString(t.text)
		}
	case kNear:
		t.a.format(b)
		b.WriteString(" NEAR/")
		b.WriteString(strconv.Itoa(int(t.dist)))
		b.WriteByte(' ')
		t.b.format(b)
	case kRegex:
		b.WriteByte('/')
		b.WriteString(t.text)
		b.WriteByte('/')
	case kSite:
		b.WriteString(t.text)
	}
}

// reported returns how a term is reported when it matches, computed once at
// parse time so that matching allocates nothing for it:
//
//   - a word, phrase or prefix: its normalised words (as the tokenizer makes
//     them: case folded, accents removed) joined by one space, with the '*'
//     of a prefix kept: U.S. is "u s", "Export   Control" and export-control
//     are "export control", Zürich is "zurich", export* is "export*", 英伟达
//     is "英 伟 达";
//   - a regular expression: between slashes, lower-cased, otherwise as
//     written (/NVIDIA/ is "/nvidia/"; for display only, matching is not
//     changed);
//   - a site: site:host.
//
// A field scope is not part of it: title:H20 is reported as "h20".
func (t *term) reported() string {
	switch t.kind {
	case kWord:
		s := strings.Join(t.words, " ")
		if t.prefix {
			s += "*"
		}
		return s
	case kRegex:
		return "/" + strings.ToLower(t.text) + "/"
	}
	return t.text
}

// termTexts returns the reported forms of a term: two for NEAR, else one.
func (t *term) termTexts() []string {
	if t.kind == kNear {
		return []string{t.a.shown, t.b.shown}
	}
	return []string{t.shown}
}

// storyView is a story prepared for the straightforward evaluator: each field's
// raw text and tokens. Categories are one part each; a phrase never spans two.
type storyView struct {
	raw  [numFields][]string
	toks [numFields][][]string
	host string
}

func newStoryView(s *story.Story) *storyView {
	v := &storyView{}
	single := [...]struct {
		f    int
		text string
	}{{fTitle, s.Title}, {fSummary, s.Summary}, {fContent, s.Content}, {fSource, s.Source}, {fAuthor, s.Author}, {fURL, s.URL}}
	for _, x := range single {
		text := capText(x.text, fieldLimits[x.f])
		v.raw[x.f] = []string{text}
		v.toks[x.f] = [][]string{tokens(text)}
	}
	for _, c := range s.Categories {
		c = capText(c, fieldLimits[fCategory])
		v.raw[fCategory] = append(v.raw[fCategory], c)
		v.toks[fCategory] = append(v.toks[fCategory], tokens(c))
	}
	v.host = urlHost(s.URL)
	return v
}

// Eval is the straightforward evaluator: does q match s, and which distinct
// positive terms matched, in query order: a word, phrase or prefix as its
// normalised words joined by one space ("u s", "export control", "export*"),
// a regular expression as /re/ lower-cased, a site as site:host. It is the
// reference the Engine is tested against.
func (q *Query) Eval(s *story.Story) (terms []string, ok bool) {
	terms, _, ok = q.evalFull(newStoryView(s))
	return terms, ok
}

// evalFull also returns the fields the reported terms matched in.
func (q *Query) evalFull(v *storyView) ([]string, fieldMask, bool) {
	var res [MaxTerms]bool
	var fields [MaxTerms]fieldMask
	q.leafResults(v, res[:], fields[:])
	if !q.root.eval(res[:]) {
		return nil, 0, false
	}
	terms, mask := q.matchedTerms(res[:], fields[:])
	return terms, mask, true
}

// matchedTerms returns, from the leaves' results, the distinct positive
// terms that hold, in query order, and the fields they hold in.
func (q *Query) matchedTerms(res []bool, fields []fieldMask) ([]string, fieldMask) {
	var terms []string
	var mask fieldMask
	for i, l := range q.leaves {
		if !l.positive || !res[i] {
			continue
		}
		mask |= fields[i]
		for _, t := range l.t.termTexts() {
			if !contains(terms, t) {
				terms = append(terms, t)
			}
		}
	}
	return terms, mask
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// leafResults evaluates every leaf: whether it holds, and in which fields.
// res and fields have room for every leaf.
func (q *Query) leafResults(v *storyView, res []bool, fields []fieldMask) {
	for i, l := range q.leaves {
		fields[i] = 0
		for f := range numFields {
			if l.mask&(1<<f) != 0 && l.t.holdsIn(v, f) {
				fields[i] |= 1 << f
			}
		}
		res[i] = fields[i] != 0
	}
}

// holdsIn reports whether a term holds in field f of the story.
func (t *term) holdsIn(v *storyView, f int) bool {
	switch t.kind {
	case kSite:
		return f == fURL && siteMatches(v.host, t.host())
	case kRegex:
		for _, raw := range v.raw[f] {
			if t.re.MatchString(raw) {
				return true
			}
		}
		return false
	case kNear:
		na, nb, d := len(t.a.words), len(t.b.words), int(t.dist)
		for _, toks := range v.toks[f] {
			as, bs := occurrences(toks, t.a), occurrences(toks, t.b)
			for _, a := range as {
				// Only b starting within the reach of a can do; bs is sorted.
				i, _ := slices.BinarySearch(bs, a-d-nb)
				for ; i < len(bs) && bs[i] <= a+na+d; i++ {
					b := bs[i]
					aEnd, bEnd := a+na-1, b+nb-1
					if aEnd < b && b-aEnd-1 <= d || bEnd < a && a-bEnd-1 <= d {
						return true
					}
				}
			}
		}
		return false
	}
	for _, toks := range v.toks[f] {
		if len(occurrences(toks, t)) > 0 {
			return true
		}
	}
	return false
}

// occurrences returns where the words of t start in toks.
func occurrences(toks []string, t *term) []int {
	var at []int
	n := len(t.words)
outer:
	for i := 0; i+n <= len(toks); i++ {
		for j, w := range t.words {
			if j == n-1 && t.prefix {
				if !strings.HasPrefix(toks[i+j], w) {
					continue outer
				}
			} else if toks[i+j] != w {
				continue outer
			}
		}
		at = append(at, i)
	}
	return at
}

// siteMatches reports whether host is site or a subdomain of it.
func siteMatches(host, site string) bool {
	return host == site || len(host) > len(site) && host[len(host)-len(site)-1] == '.' && host[len(host)-len(site):] == site
}

// urlHost returns the host of an absolute URL, ASCII lower-cased, without
// user information, port or trailing dot; "" when there is none.
func urlHost(u string) string { return string(appendHost(nil, u)) }

// appendHost appends urlHost(u) to dst.
func appendHost(dst []byte, u string) []byte {
	i := strings.Index(u, "://")
	if i <= 0 {
		return dst
	}
	for j := 0; j < i; j++ {
		c := u[j] | 0x20
		if !('a' <= c && c <= 'z' || '0' <= u[j] && u[j] <= '9' || u[j] == '+' || u[j] == '-' || u[j] == '.') {
			return dst
		}
	}
	rest := u[i+3:]
	if k := strings.IndexAny(rest, "/?#"); k >= 0 {
		rest = rest[:k]
	}
	if k := strings.LastIndexByte(rest, '@'); k >= 0 {
		rest = rest[k+1:]
	}
	if strings.HasPrefix(rest, "[") {
		k := strings.IndexByte(rest, ']')
		if k < 0 {
			return dst
		}
		rest = rest[1:k]
	} else {
		if k := strings.LastIndexByte(rest, ':'); k >= 0 {
			rest = rest[:k]
		}
		rest = strings.TrimSuffix(rest, ".")
	}
	for k := 0; k < len(rest); k++ {
		c := rest[k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Words returns a condition on a story's words that every story matching q
// meets — a necessary condition, for a store to narrow a lookup with its
// full-text index before Eval decides — or nil when no useful one can be
// given: CJK terms, regular expressions, sites, terms only in source, author,
// category or url, and negations give no condition. Words are in the form
// Normalize gives them.
func (q *Query) Words() *story.WordFilter {
	f, ok := q.root.wordFilter(true)
	if !ok {
		return nil
	}
	return &f
}

// wordFilter returns the word condition for n under the given polarity; ok false
// means "no condition" (anything may match).
func (n *node) wordFilter(positive bool) (story.WordFilter, bool) {
	switch n.op {
	case opTerm:
		if !positive {
			return story.WordFilter{}, false
		}
		return n.t.wordFilter()
	case opNot:
		return n.kids[0].wordFilter(!positive)
	case opField:
		if n.field > fContent {
			return story.WordFilter{}, false
		}
		return n.kids[0].wordFilter(positive)
	}
	and := (n.op == opAnd) == positive
	var parts []story.WordFilter
	for _, k := range n.kids {
		f, ok := k.wordFilter(positive)
		if !ok {
			if and {
				continue
			}
			return story.WordFilter{}, false
		}
		parts = append(parts, f)
	}
	switch {
	case len(parts) == 0:
		return story.WordFilter{}, false
	case len(parts) == 1:
		return parts[0], true
	case and:
		return story.WordFilter{All: parts}, true
	}
	return story.WordFilter{Any: parts}, true
}

func (t *term) wordFilter() (story.WordFilter, bool) {
	switch t.kind {
	case kWord:
		return phraseFilter(t)
	case kNear:
		a, ok := phraseFilter(t.a)
		if !ok {
			return story.WordFilter{}, false
		}
		b, ok := phraseFilter(t.b)
		if !ok {
			return story.WordFilter{}, false
		}
		return story.WordFilter{All: []story.WordFilter{a, b}}, true
	}
	return story.WordFilter{}, false
}

// phraseFilter is the condition of a word, phrase or prefix.
func phraseFilter(t *term) (story.WordFilter, bool) {
	for _, w := range t.words {
		if isCJKToken(w) {
			return story.WordFilter{}, false
		}
	}
	return story.WordFilter{Phrase: slices.Clone(t.words), Prefix: t.prefix}, true
}

package rules

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/story"
)

// Limits on a query. They are checked while parsing, so that no input makes
// the parser or the matcher work for long.
const (
	// MaxQueryLen is the longest query, in characters.
	MaxQueryLen = 1000
	// MaxTerms is the most terms (words, phrases, prefixes, regular
	// expressions, sites; NEAR counts its two sides) a query may have.
	MaxTerms = 64
	// MaxDepth is the deepest nesting of parentheses.
	MaxDepth = 16
	// MaxNear is the largest n of NEAR/n.
	MaxNear = 100
	// maxPrefixBytes bounds a prefix (normalised, in bytes): the matcher probes
	// prefixes of story words up to this length.
	maxPrefixBytes = 63
)

// Error is a query that cannot be used: where, and why, in words a person
// understands.
type Error struct {
	// Column is where the problem is, 1-based, in characters.
	Column int
	// Reason says what is wrong and, where it can, how to fix it.
	Reason string
}

// Error returns "column N: reason".
func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Column, e.Reason) }

// lexKind is the kind of a lexical token of a query.
type lexKind uint8

const (
	lEOF lexKind = iota
	lLParen
	lRParen
	lWord
	lPhrase
	lRegex
	lField // "name:" — text is the name
	lMinus
	lAnd
	lOr
	lNot
	lNear
)

// lexTok is one lexical token: its kind, text and byte span in the query.
type lexTok struct {
	kind     lexKind
	text     string
	pos, end int
	n        int  // NEAR distance
	raw      bool // a word read right after "field:", where ':' is ordinary
	adjacent bool // starts right where the previous token ended
}

// parser turns a query into a tree. It keeps the source for error columns.
type parser struct {
	src   string
	toks  []lexTok
	i     int
	depth int
	terms int
	field int // the field scope being parsed, -1 for none
}

// Parse parses and validates a query. Errors are *Error.
func Parse(query string) (*Query, error) {
	p := &parser{src: query, field: -1}
	if len(query) > 4*MaxQueryLen || utf8.RuneCountInString(query) > MaxQueryLen {
		return nil, &Error{Column: MaxQueryLen + 1, Reason: fmt.Sprintf("query is longer than %d characters", MaxQueryLen)}
	}
	if strings.TrimSpace(query) == "" {
		return nil, &Error{Column: 1, Reason: "empty query: write at least one word to look for"}
	}
	p.toks = make([]lexTok, 0, 8)
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != lEOF {
		if t.kind == lRParen {
			return nil, p.errf(t.pos, "unbalanced parenthesis: ')' at column %d has no matching '('", p.col(t.pos))
		}
		return nil, p.errf(t.pos, "unexpected %s", p.describe(t))
	}
	q := newQuery(query, root)
	var res [MaxTerms]bool
	var fields [MaxTerms]fieldMask
	if q.leafResults(emptyStory, res[:], fields[:]); root.eval(res[:]) {
		return nil, p.errf(emptyMatchPos(root, res[:]), "this query would match every story: add a term that must appear")
	}
	return q, nil
}

// emptyStory is a story with no text, which no query may match. Read only.
var emptyStory = newStoryView(&story.Story{})

// emptyMatchPos points at the part of a query that lets it match a story with
// no text: the first alternative of a top-level OR that does.
func emptyMatchPos(root *node, res []bool) int {
	if root.op == opOr {
		for _, k := range root.kids {
			if k.eval(res) {
				return int(k.pos)
			}
		}
	}
	return int(root.pos)
}

func (p *parser) col(pos int) int { return utf8.RuneCountInString(p.src[:pos]) + 1 }

func (p *parser) errf(pos int, format string, args ...any) *Error {
	return &Error{Column: p.col(pos), Reason: fmt.Sprintf(format, args...)}
}

// describe names a token in an error message.
func (p *parser) describe(t lexTok) string {
	switch t.kind {
	case lEOF:
		return "end of query"
	case lLParen:
		return "'('"
	case lRParen:
		return "')'"
	case lField:
		return "'" + t.text + ":'"
	case lMinus:
		return "'-'"
	case lNear:
		return "'" + p.src[t.pos:t.end] + "'"
	}
	return "'" + t.text + "'"
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

// lex splits the query into tokens, catching unclosed quotes and regular
// expressions and malformed operators on the way.
func (p *parser) lex() error {
	s := p.src
	afterField := false
	prevEnd := -1
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			i += n
			afterField = false
			continue
		}
		start := i
		var t lexTok
		switch {
		case r == '(':
			t = lexTok{kind: lLParen, text: "(", pos: i, end: i + 1}
		case r == ')':
			t = lexTok{kind: lRParen, text: ")", pos: i, end: i + 1}
		case r == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return p.errf(i, "unclosed quote opened at column %d", p.col(i))
			}
			t = lexTok{kind: lPhrase, text: s[i+1 : i+1+j], pos: i, end: i + j + 2}
		case r == '/':
			j := i + 1
			for j < len(s) && s[j] != '/' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			if j >= len(s) {
				return p.errf(i, "unclosed regular expression: '/' at column %d has no closing '/'", p.col(i))
			}
			t = lexTok{kind: lRegex, text: s[i+1 : j], pos: i, end: j + 1}
		case r == '-' && !afterField:
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if i+1 >= len(s) || isSpace(next) || next == ')' {
				return p.errf(i, "'-' must be followed directly by the term to leave out, as in -word")
			}
			t = lexTok{kind: lMinus, text: "-", pos: i, end: i + 1}
		case afterField && r == '-':
			return p.errf(i, "to leave out a term in a field, put '-' before the field, as in -title:word")
		default:
			j := i
			for j < len(s) {
				c, m := utf8.DecodeRuneInString(s[j:])
				if isSpace(c) || c == '(' || c == ')' || c == '"' {
					break
				}
				if c == ':' && !afterField && isIdent(s[i:j]) {
					break
				}
				j += m
			}
			if j < len(s) && s[j] == ':' && !afterField && isIdent(s[i:j]) {
				t = lexTok{kind: lField, text: strings.ToLower(s[i:j]), pos: i, end: j + 1}
				break
			}
			t = lexTok{kind: lWord, text: s[i:j], pos: i, end: j, raw: afterField}
			if !afterField {
				if err := p.operator(&t); err != nil {
					return err
				}
			}
		}
		t.adjacent = start == prevEnd
		p.toks = append(p.toks, t)
		prevEnd = t.end
		i = t.end
		afterField = t.kind == lField
	}
	p.toks = append(p.toks, lexTok{kind: lEOF, pos: len(s), end: len(s)})
	return nil
}

// operator turns a word that is an upper-case operator into one.
func (p *parser) operator(t *lexTok) error {
	switch w := t.text; {
	case w == "AND":
		t.kind = lAnd
	case w == "OR":
		t.kind = lOr
	case w == "NOT":
		t.kind = lNot
	case w == "NEAR" || strings.HasPrefix(w, "NEAR/"):
		n, err := strconv.Atoi(strings.TrimPrefix(w, "NEAR/"))
		if w == "NEAR" || err != nil || n < 0 || strings.HasPrefix(w, "NEAR/+") {
			return p.errf(t.pos, "malformed NEAR: write NEAR/n, where n is how many words may come between (0 to %d)", MaxNear)
		}
		if n > MaxNear {
			return p.errf(t.pos, "NEAR/%d is too far: at most NEAR/%d", n, MaxNear)
		}
		t.kind, t.n = lNear, n
	}
	return nil
}

// isIdent reports whether s could be a field name: ASCII letters only.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func (p *parser) peek() lexTok { return p.toks[p.i] }

func (p *parser) next() lexTok {
	t := p.toks[p.i]
	if t.kind != lEOF {
		p.i++
	}
	return t
}

// startsTerm reports whether a token can begin an operand of AND.
func startsTerm(k lexKind) bool {
	switch k {
	case lWord, lPhrase, lRegex, lField, lLParen, lNot, lMinus:
		return true
	}
	return false
}

func (p *parser) parseOr() (*node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for p.peek().kind == lOr {
		op := p.next()
		if !startsTerm(p.peek().kind) {
			return nil, p.errf(op.pos, "'OR' at column %d needs a term after it, found %s", p.col(op.pos), p.describe(p.peek()))
		}
		k, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return join(opOr, kids), nil
}

func (p *parser) parseAnd() (*node, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		t := p.peek()
		if t.kind == lAnd {
			p.next()
			if !startsTerm(p.peek().kind) {
				return nil, p.errf(t.pos, "'AND' at column %d needs a term after it, found %s", p.col(t.pos), p.describe(p.peek()))
			}
		} else if !startsTerm(t.kind) {
			break
		}
		k, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	return join(opAnd, kids), nil
}

// join makes an AND or OR node of kids, flattening nested nodes of the same
// operator: (a AND b) AND c is a AND b AND c.
func join(op nodeOp, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	n := &node{op: op, pos: kids[0].pos}
	for _, k := range kids {
		if k.op == op {
			n.kids = append(n.kids, k.kids...)
		} else {
			n.kids = append(n.kids, k)
		}
	}
	return n
}

func (p *parser) parseUnary() (*node, error) {
	t := p.peek()
	neg, notPos := false, t.pos
	for t.kind == lNot || t.kind == lMinus {
		p.next()
		if !startsTerm(p.peek().kind) || (t.kind == lMinus && !p.peek().adjacent) {
			name := "'NOT'"
			if t.kind == lMinus {
				name = "'-'"
			}
			return nil, p.errf(t.pos, "%s at column %d needs a term after it, found %s", name, p.col(t.pos), p.describe(p.peek()))
		}
		neg = !neg
		t = p.peek()
	}
	n, err := p.parseNear()
	if err != nil {
		return nil, err
	}
	if neg {
		if n.op == opNot {
			return n.kids[0], nil
		}
		return &node{op: opNot, kids: []*node{n}, pos: int32(notPos)}, nil
	}
	return n, nil
}

func (p *parser) parseNear() (*node, error) {
	left, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != lNear {
		return left, nil
	}
	if !nearOperand(left) {
		return nil, p.errf(t.pos, "NEAR joins two words or phrases; put a field before a group instead, as in title:(a NEAR/3 b)")
	}
	p.next()
	if k := p.peek().kind; k != lWord && k != lPhrase {
		return nil, p.errf(t.pos, "NEAR at column %d needs a word or phrase after it, found %s", p.col(t.pos), p.describe(p.peek()))
	}
	right, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	if !nearOperand(right) {
		return nil, p.errf(int(right.pos), "NEAR joins two words or phrases")
	}
	if p.peek().kind == lNear {
		return nil, p.errf(p.peek().pos, "NEAR joins exactly two terms; combine pairs with AND: (a NEAR/3 b) AND (b NEAR/3 c)")
	}
	nt := &term{kind: kNear, a: left.t, b: right.t, dist: int32(t.n)}
	return &node{op: opTerm, t: nt, pos: left.pos}, nil
}

func nearOperand(n *node) bool {
	return n.op == opTerm && n.t.kind == kWord
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.next()
	switch t.kind {
	case lLParen:
		return p.parseGroup(t)
	case lWord, lPhrase, lRegex:
		return p.parseTerm(t)
	case lField:
		return p.parseField(t)
	case lAnd, lOr:
		return nil, p.errf(t.pos, "'%s' at column %d needs a term before it", t.text, p.col(t.pos))
	case lNear:
		return nil, p.errf(t.pos, "NEAR at column %d needs a word or phrase before it", p.col(t.pos))
	case lRParen:
		return nil, p.errf(t.pos, "unbalanced parenthesis: ')' at column %d has no matching '('", p.col(t.pos))
	}
	return nil, p.errf(t.pos, "expected a term, found %s", p.describe(t))
}

func (p *parser) parseGroup(open lexTok) (*node, error) {
	p.depth++
	if p.depth > MaxDepth {
		return nil, p.errf(open.pos, "parentheses nested deeper than %d", MaxDepth)
	}
	if p.peek().kind == lRParen {
		return nil, p.errf(open.pos, "empty parentheses at column %d", p.col(open.pos))
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != lRParen {
		if t.kind == lEOF {
			return nil, p.errf(open.pos, "unbalanced parenthesis opened at column %d", p.col(open.pos))
		}
		return nil, p.errf(t.pos, "unexpected %s", p.describe(t))
	}
	p.next()
	p.depth--
	return n, nil
}

// fieldIndex returns the index of a field name, or -1.
func fieldIndex(name string) int {
	for i, f := range fieldNames {
		if f == name {
			return i
		}
	}
	return -1
}

func (p *parser) parseField(ft lexTok) (*node, error) {
	name := ft.text
	f := fieldIndex(name)
	if f < 0 && name != "site" {
		return nil, p.errf(ft.pos, "%s", unknownField(p.src[ft.pos:ft.end-1]))
	}
	next := p.peek()
	if !next.adjacent || next.kind == lEOF || next.kind == lRParen {
		return nil, p.errf(ft.pos, "'%s:' needs a term right after it, as in %s:word", name, name)
	}
	if name == "site" {
		if p.field >= 0 {
			return nil, p.errf(ft.pos, "site: cannot be inside %s:(…)", fieldNames[p.field])
		}
		if next.kind != lWord {
			return nil, p.errf(ft.pos, "site: takes a host name, as in site:reuters.com")
		}
		p.next()
		return p.parseSite(ft, next)
	}
	if p.field >= 0 && p.field != f {
		return nil, p.errf(ft.pos, "'%s:' inside %s:(…): a term can be scoped to only one field", name, fieldNames[p.field])
	}
	outer := p.field
	p.field = f
	defer func() { p.field = outer }()
	var kid *node
	var err error
	switch next.kind {
	case lLParen:
		p.next()
		kid, err = p.parseGroup(next)
	case lWord, lPhrase, lRegex:
		p.next()
		kid, err = p.parseTerm(next)
		if err == nil && p.peek().kind == lNear {
			err = p.errf(p.peek().pos, "NEAR joins two words or phrases; to scope it, write %s:(a NEAR/3 b)", name)
		}
	default:
		return nil, p.errf(ft.pos, "'%s:' needs a word, a \"phrase\", a /regex/ or a (group) after it", name)
	}
	if err != nil {
		return nil, err
	}
	if outer == f {
		return kid, nil // title:(… title:x …) is title:x
	}
	return &node{op: opField, field: int8(f), kids: []*node{kid}, pos: int32(ft.pos)}, nil
}

// unknownField explains an unknown field name, suggesting the nearest one.
func unknownField(name string) string {
	lower := strings.ToLower(name)
	best, bestD := "", 3
	for _, f := range append(fieldNames[:], "site") {
		if d := editDistance(lower, f); d < bestD {
			best, bestD = f, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field '%s' — did you mean '%s'?", name, best)
	}
	return fmt.Sprintf("unknown field '%s': fields are title, summary, content, source, author, category, url and site (put text with ':' in quotes)", name)
}

// editDistance is the Levenshtein distance of two short ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) countTerm(pos int) error {
	p.terms++
	if p.terms > MaxTerms {
		return p.errf(pos, "too many terms: a query may have at most %d", MaxTerms)
	}
	return nil
}

func (p *parser) parseSite(ft, t lexTok) (*node, error) {
	if err := p.countTerm(ft.pos); err != nil {
		return nil, err
	}
	host := strings.TrimSuffix(strings.TrimPrefix(asciiLower(t.text), "."), ".")
	if host == "" || strings.Contains(host, "..") || strings.ContainsAny(host, "/:@?#*\\[]") {
		return nil, p.errf(t.pos, "site: takes a host name, as in site:reuters.com, not %q", t.text)
	}
	tm := &term{kind: kSite, text: "site:" + host}
	tm.shown = tm.reported()
	return &node{op: opTerm, t: tm, pos: int32(ft.pos)}, nil
}

// asciiLower lower-cases ASCII letters only, as hosts are compared.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// regexProgramSize is the number of instructions of the compiled program of
// a regular expression that regexp.Compile accepted, case-insensitive.
func regexProgramSize(expr string) int {
	re, err := syntax.Parse("(?i)"+expr, syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}

func (p *parser) parseTerm(t lexTok) (*node, error) {
	if err := p.countTerm(t.pos); err != nil {
		return nil, err
	}
	var tm *term
	switch t.kind {
	case lRegex:
		if t.text == "" {
			return nil, p.errf(t.pos, "empty regular expression")
		}
		re, err := regexp.Compile("(?i)" + t.text)
		if err != nil {
			reason := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
			return nil, p.errf(t.pos, "invalid regular expression: %s", reason)
		}
		if n := regexProgramSize(t.text); n > MaxRegexProgram {
			return nil, p.errf(t.pos, "regular expression too complex: %d steps, at most %d (write fewer or smaller repetitions such as {n})", n, MaxRegexProgram)
		}
		tm = &term{kind: kRegex, text: t.text, re: re}
	case lPhrase:
		words := tokens(t.text)
		if len(words) == 0 {
			return nil, p.errf(t.pos, "empty phrase: put words between the quotes")
		}
		tm = &term{kind: kWord, quoted: true, words: words, text: strings.Join(strings.Fields(strings.ToLower(t.text)), " ")}
	case lWord:
		text := t.text
		prefix := strings.HasSuffix(text, "*")
		body := strings.TrimSuffix(text, "*")
		if strings.Contains(body, "*") {
			return nil, p.errf(t.pos, "'*' may only end a word, as in export*")
		}
		words := tokens(body)
		if len(words) == 0 {
			if prefix {
				return nil, p.errf(t.pos, "'*' must follow at least 2 letters or digits, as in ex*")
			}
			return nil, p.errf(t.pos, "'%s' has no letters or digits to look for", text)
		}
		if prefix {
			last := words[len(words)-1]
			switch {
			case isCJKToken(last):
				prefix = false // a CJK token is one character: its prefix is itself
			case utf8.RuneCountInString(last) < 2:
				return nil, p.errf(t.pos, "prefix '%s' is too short: put at least 2 letters or digits before '*'", text)
			case len(last) > maxPrefixBytes:
				return nil, p.errf(t.pos, "prefix '%s' is too long", text)
			}
		}
		tm = &term{kind: kWord, words: words, prefix: prefix, text: strings.ToLower(text)}
	}
	tm.shown = tm.reported()
	return &node{op: opTerm, t: tm, pos: int32(t.pos)}, nil
}

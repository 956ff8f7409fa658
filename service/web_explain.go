package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Explanation says, for one stored story, which rules match it and which do
// not, and why: the "why / why not" of the dashboard and the JSON API.
type Explanation struct {
	// Story is the story explained.
	Story story.Story
	// Rules are every rule, by id.
	Rules []RuleExplanation
}

// RuleExplanation is one rule's verdict on a story.
type RuleExplanation struct {
	// Rule is the stored rule.
	Rule store.Rule
	// Matched is true when the rule would alert on the story: its query
	// matches and the story's source is one the rule listens to. A paused
	// rule can match; it just sends nothing while paused.
	Matched bool
	// Terms are the positive terms that matched, as alerts name them.
	Terms []string
	// Checks are the query's terms, each with where it was found.
	Checks []TermCheck
	// Reasons say, in words, why the rule does not match (empty when it does).
	Reasons []string
}

// TermCheck is one term of a query and the story fields it was found in.
type TermCheck struct {
	// Term is the term as the canonical query writes it, with its field
	// scope: "nvidia", `"export controls"`, "title:h20", "site:reuters.com".
	Term string
	// Negative is true for a term that must not appear (under an odd number of NOTs).
	Negative bool
	// Fields are the fields the term was found in (title, summary, content,
	// source, author, category, url); empty when it was not found.
	Fields []string
}

// Explain loads a stored story and every rule and says, for each rule,
// whether it matches the story and why or why not.
func (s *Service) Explain(ctx context.Context, storyID string) (Explanation, error) {
	st, err := s.o.Store.Story(ctx, storyID)
	if err != nil {
		return Explanation{}, err
	}
	all, err := s.o.Store.Rules(ctx)
	if err != nil {
		return Explanation{}, err
	}
	out := Explanation{Story: st, Rules: make([]RuleExplanation, 0, len(all))}
	for _, r := range all {
		out.Rules = append(out.Rules, ExplainRule(r, &st))
	}
	return out, nil
}

// ExplainRule says whether rule r matches story st and why or why not. It
// agrees with the live matcher: the verdict on the query is rules.Query.Eval's,
// and the terms' fields and the reasons come from evaluating each term of the
// query on its own.
func ExplainRule(r store.Rule, st *story.Story) RuleExplanation {
	ex := RuleExplanation{Rule: r}
	q, err := rules.Parse(r.Query)
	if err != nil {
		ex.Reasons = []string{"the query does not parse: " + err.Error()}
		return ex
	}
	terms, ok := q.Eval(st)
	tree, perr := parseCanonical(q.String())
	if perr == nil {
		tree.check(st)
		tree.collect(&ex.Checks, false)
	}
	switch {
	case !ok:
		if perr == nil {
			ex.Reasons = tree.whyNot(false)
		}
		if len(ex.Reasons) == 0 {
			ex.Reasons = []string{"the query does not match"}
		}
	case len(r.Sources) > 0 && !slices.Contains(r.Sources, st.Source):
		ex.Terms = terms
		ex.Reasons = []string{fmt.Sprintf("the query matches, but the rule only listens to %s, not %q",
			quoteList(r.Sources), st.Source)}
	default:
		ex.Matched, ex.Terms = true, terms
	}
	return ex
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// bareFields are the fields a term without a field scope searches.
var bareFields = []string{"title", "summary", "content"}

// exprOp is the operator of an explanation tree node.
type exprOp uint8

const (
	exLeaf exprOp = iota
	exAnd
	exOr
	exNot
)

// expr is a node of a query as the explainer reads it back from the
// canonical form that rules.Query.String writes.
type expr struct {
	op     exprOp
	kids   []*expr
	text   string   // exLeaf: the term as written, without its field scope
	scope  string   // exLeaf: the field it is limited to ("" for the bare fields)
	fields []string // exLeaf: where it was found, after check
	found  bool
}

// display is the leaf as a user reads it: with its field scope.
func (e *expr) display() string {
	if e.scope == "" || strings.HasPrefix(e.text, "site:") {
		return e.text
	}
	return e.scope + ":" + e.text
}

// check evaluates every leaf against st, field by field.
func (e *expr) check(st *story.Story) {
	if e.op != exLeaf {
		for _, k := range e.kids {
			k.check(st)
		}
		return
	}
	fields := bareFields
	switch {
	case strings.HasPrefix(e.text, "site:"):
		if q, err := rules.Parse(e.text); err == nil {
			if _, ok := q.Eval(st); ok {
				e.fields = []string{"url"}
			}
		}
		e.found = len(e.fields) > 0
		return
	case e.scope != "":
		fields = []string{e.scope}
	}
	for _, f := range fields {
		// A word right after "field:" is read raw (url:https://…); a NEAR
		// needs parentheses to stay in the field.
		src := f + ":" + e.text
		if strings.Contains(e.text, " NEAR/") {
			src = f + ":(" + e.text + ")"
		}
		q, err := rules.Parse(src)
		if err != nil {
			continue
		}
		if _, ok := q.Eval(st); ok {
			e.fields = append(e.fields, f)
		}
	}
	e.found = len(e.fields) > 0
}

// collect lists the leaves, in query order; negative is the polarity so far.
func (e *expr) collect(out *[]TermCheck, negative bool) {
	switch e.op {
	case exLeaf:
		*out = append(*out, TermCheck{Term: e.display(), Negative: negative, Fields: e.fields})
	case exNot:
		e.kids[0].collect(out, !negative)
	default:
		for _, k := range e.kids {
			k.collect(out, negative)
		}
	}
}

// eval is the node's truth value from its leaves' results.
func (e *expr) eval() bool {
	switch e.op {
	case exLeaf:
		return e.found
	case exNot:
		return !e.kids[0].eval()
	case exAnd:
		for _, k := range e.kids {
			if !k.eval() {
				return false
			}
		}
		return true
	default:
		for _, k := range e.kids {
			if k.eval() {
				return true
			}
		}
		return false
	}
}

// whyNot explains why the node is false (negated: why it is true, for a
// node under NOT).
func (e *expr) whyNot(negated bool) []string {
	if negated {
		return e.whyPresent()
	}
	switch e.op {
	case exLeaf:
		return []string{fmt.Sprintf("needs %s — not found", quoteTerm(e.display()))}
	case exNot:
		return e.kids[0].whyNot(true)
	case exAnd:
		var out []string
		for _, k := range e.kids {
			if !k.eval() {
				out = append(out, k.whyNot(false)...)
			}
		}
		return out
	default:
		leaves := true
		var names []string
		for _, k := range e.kids {
			if k.op != exLeaf {
				leaves = false
				break
			}
			names = append(names, quoteTerm(k.display()))
		}
		if leaves {
			return []string{fmt.Sprintf("needs one of %s — none found", strings.Join(names, ", "))}
		}
		var parts []string
		for _, k := range e.kids {
			parts = append(parts, strings.Join(k.whyNot(false), "; "))
		}
		return []string{"needs one of these, and none holds: (" + strings.Join(parts, ") or (") + ")"}
	}
}

// whyPresent explains why a node that a NOT excludes is true.
func (e *expr) whyPresent() []string {
	switch e.op {
	case exLeaf:
		return []string{fmt.Sprintf("excludes %s — found in %s", quoteTerm(e.display()), strings.Join(e.fields, ", "))}
	case exNot:
		return e.kids[0].whyNot(false)
	case exOr:
		var out []string
		for _, k := range e.kids {
			if k.eval() {
				out = append(out, k.whyPresent()...)
			}
		}
		return out
	default:
		var parts []string
		for _, k := range e.kids {
			parts = append(parts, k.whyPresent()...)
		}
		return []string{"excludes a combination that is present: " + strings.Join(parts, "; ")}
	}
}

func quoteTerm(t string) string {
	if strings.HasPrefix(t, `"`) {
		return t
	}
	return "'" + t + "'"
}

// parseCanonical reads back the canonical form of a query: terms, quoted
// phrases, /regular expressions/, NEAR/n, field:term and field:(…), NOT,
// AND, OR and parentheses, as rules.Query.String writes them.
func parseCanonical(src string) (*expr, error) {
	p := &canonParser{src: src}
	e, err := p.or("")
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.src) {
		return nil, fmt.Errorf("explain: unexpected %q at %d", p.src[p.i:], p.i)
	}
	return e, nil
}

type canonParser struct {
	src   string
	i     int
	depth int
}

func (p *canonParser) space() {
	for p.i < len(p.src) && p.src[p.i] == ' ' {
		p.i++
	}
}

// keyword reports and consumes the operator kw followed by a space.
func (p *canonParser) keyword(kw string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.i:], kw+" ") {
		p.i += len(kw) + 1
		return true
	}
	return false
}

func (p *canonParser) or(scope string) (*expr, error) {
	first, err := p.and(scope)
	if err != nil {
		return nil, err
	}
	kids := []*expr{first}
	for p.keyword("OR") {
		k, err := p.and(scope)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &expr{op: exOr, kids: kids}, nil
}

func (p *canonParser) and(scope string) (*expr, error) {
	first, err := p.unary(scope)
	if err != nil {
		return nil, err
	}
	kids := []*expr{first}
	for p.keyword("AND") {
		k, err := p.unary(scope)
		if err != nil {
			return nil, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &expr{op: exAnd, kids: kids}, nil
}

func (p *canonParser) unary(scope string) (*expr, error) {
	if p.keyword("NOT") {
		k, err := p.unary(scope)
		if err != nil {
			return nil, err
		}
		return &expr{op: exNot, kids: []*expr{k}}, nil
	}
	return p.primary(scope)
}

func (p *canonParser) primary(scope string) (*expr, error) {
	p.space()
	if p.i >= len(p.src) {
		return nil, fmt.Errorf("explain: unexpected end of query")
	}
	if p.src[p.i] == '(' {
		p.depth++
		if p.depth > 4*rules.MaxDepth {
			return nil, fmt.Errorf("explain: nested too deep")
		}
		p.i++
		e, err := p.or(scope)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.src) || p.src[p.i] != ')' {
			return nil, fmt.Errorf("explain: missing ')' at %d", p.i)
		}
		p.i++
		p.depth--
		return e, nil
	}
	if name, ok := p.field(); ok && name != "site" {
		if p.i < len(p.src) && p.src[p.i] == '(' {
			return p.primary(name)
		}
		scope = name // a word right after "field:" is raw: it may hold ':'
	}
	start := p.i
	if err := p.term(); err != nil {
		return nil, err
	}
	save := p.i
	p.space()
	if rest := p.src[p.i:]; strings.HasPrefix(rest, "NEAR/") {
		p.i += len("NEAR/")
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
		}
		p.space()
		if err := p.term(); err != nil {
			return nil, err
		}
	} else {
		p.i = save
	}
	return &expr{op: exLeaf, text: p.src[start:p.i], scope: scope}, nil
}

// field consumes "name:" when the text at the cursor is a field scope.
func (p *canonParser) field() (string, bool) {
	j := p.i
	for j < len(p.src) && (p.src[j] >= 'a' && p.src[j] <= 'z') {
		j++
	}
	if j == p.i || j >= len(p.src) || p.src[j] != ':' {
		return "", false
	}
	name := p.src[p.i:j]
	if name == "site" {
		return name, true // a term: site:host, consumed by term
	}
	p.i = j + 1
	return name, true
}

// term consumes one term: "a phrase", /re/, site:host, or a word (which may
// contain ':' and '/', as url:https://… does).
func (p *canonParser) term() error {
	if p.i >= len(p.src) {
		return fmt.Errorf("explain: missing term")
	}
	switch p.src[p.i] {
	case '"':
		j := strings.IndexByte(p.src[p.i+1:], '"')
		if j < 0 {
			return fmt.Errorf("explain: unclosed quote at %d", p.i)
		}
		p.i += j + 2
	case '/':
		j := p.i + 1
		for j < len(p.src) && p.src[j] != '/' {
			if p.src[j] == '\\' && j+1 < len(p.src) {
				j++
			}
			j++
		}
		if j >= len(p.src) {
			return fmt.Errorf("explain: unclosed regular expression at %d", p.i)
		}
		p.i = j + 1
	default:
		start := p.i
		for p.i < len(p.src) {
			r, n := utf8.DecodeRuneInString(p.src[p.i:])
			if r == ' ' || r == '(' || r == ')' || r == '"' {
				break
			}
			p.i += n
		}
		if p.i == start {
			return fmt.Errorf("explain: missing term at %d", p.i)
		}
	}
	return nil
}

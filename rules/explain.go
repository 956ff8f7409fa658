package rules

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/wirewatch/wirewatch/story"
)

// Explanation says how a query fares on a story, and why: the "why / why
// not" of the dashboard and the JSON API.
type Explanation struct {
	// Matched is whether the query matches the story, as Eval says.
	Matched bool
	// Terms are the distinct positive terms that matched, as Eval reports
	// them; empty when the query does not match.
	Terms []string
	// Checks are the query's terms, in query order, each with the fields it
	// was found in.
	Checks []Check
	// Reasons say, in words, why the query does not match: the terms it
	// needs and did not find, and those it excludes and found. Empty when
	// it matches.
	Reasons []string
}

// Check is one term of a query and the story fields it was found in.
type Check struct {
	// Term is the term as the canonical query (Query.String) writes it,
	// with its field scope: "nvidia", `"export controls"`, "title:h20",
	// "huang NEAR/3 china", "site:reuters.com".
	Term string
	// Negative is true for a term that must not appear (under an odd
	// number of NOTs).
	Negative bool
	// Fields are the fields the term was found in, in the order title,
	// summary, content, source, author, category, url; empty when it was
	// not found.
	Fields []string
}

// Explain evaluates q on s as Eval does and says why it matches or not.
func (q *Query) Explain(s *story.Story) Explanation {
	var res [MaxTerms]bool
	var fields [MaxTerms]fieldMask
	q.leafResults(newStoryView(s), res[:], fields[:])
	ex := Explanation{Matched: q.root.eval(res[:]), Checks: make([]Check, len(q.leaves))}
	for i, l := range q.leaves {
		ex.Checks[i] = Check{Term: l.display(), Negative: !l.positive, Fields: slices.Clone(fieldsByMask[fields[i]])}
	}
	if ex.Matched {
		ex.Terms, _ = q.matchedTerms(res[:], fields[:])
	} else {
		w := why{q: q, res: res[:], checks: ex.Checks}
		ex.Reasons = w.absent(q.root)
	}
	return ex
}

// display writes a leaf as Check.Term does: with its field scope.
func (l leaf) display() string {
	var b strings.Builder
	if l.t.kind != kSite && l.mask != bareMask {
		b.WriteString(fieldNames[bits.TrailingZeros8(uint8(l.mask))])
		b.WriteByte(':')
	}
	l.t.format(&b)
	return b.String()
}

// why words the reasons of a verdict from the leaves' results.
type why struct {
	q      *Query
	res    []bool
	checks []Check
}

// unscoped returns n without the field scopes around it.
func unscoped(n *node) *node {
	for n.op == opField {
		n = n.kids[0]
	}
	return n
}

// term names leaf node n in a reason: a phrase in its quotes, anything else
// in single quotes.
func (w why) term(n *node) string {
	t := w.checks[n.leaf].Term
	if strings.HasPrefix(t, `"`) {
		return t
	}
	return "'" + t + "'"
}

// absent explains why n, which is false, is false.
func (w why) absent(n *node) []string {
	switch n = unscoped(n); n.op {
	case opTerm:
		return []string{fmt.Sprintf("needs %s — not found", w.term(n))}
	case opNot:
		return w.present(n.kids[0])
	case opAnd:
		var out []string
		for _, k := range n.kids {
			if !k.eval(w.res) {
				out = append(out, w.absent(k)...)
			}
		}
		return out
	}
	var names []string
	for _, k := range n.kids {
		if k = unscoped(k); k.op != opTerm {
			names = nil
			break
		}
		names = append(names, w.term(k))
	}
	if names != nil {
		return []string{fmt.Sprintf("needs one of %s — none found", strings.Join(names, ", "))}
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = strings.Join(w.absent(k), "; ")
	}
	return []string{"needs one of these, and none holds: (" + strings.Join(parts, ") or (") + ")"}
}

// present explains why n, which a NOT excludes, is true.
func (w why) present(n *node) []string {
	switch n = unscoped(n); n.op {
	case opTerm:
		return []string{fmt.Sprintf("excludes %s — found in %s", w.term(n), strings.Join(w.checks[n.leaf].Fields, ", "))}
	case opNot:
		return w.absent(n.kids[0])
	case opOr:
		var out []string
		for _, k := range n.kids {
			if k.eval(w.res) {
				out = append(out, w.present(k)...)
			}
		}
		return out
	}
	var parts []string
	for _, k := range n.kids {
		parts = append(parts, w.present(k)...)
	}
	return []string{"excludes a combination that is present: " + strings.Join(parts, "; ")}
}

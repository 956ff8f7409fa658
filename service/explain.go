package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	Checks []rules.Check
	// Reasons say, in words, why the rule does not match (empty when it does).
	Reasons []string
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

// ExplainRule says whether rule r matches story st and why or why not: the
// query's verdict, terms and reasons are rules.Query.Explain's, and a query
// that matches a story from a source the rule does not listen to is said so.
func ExplainRule(r store.Rule, st *story.Story) RuleExplanation {
	ex := RuleExplanation{Rule: r}
	q, err := rules.Parse(r.Query)
	if err != nil {
		ex.Reasons = []string{"the query does not parse: " + err.Error()}
		return ex
	}
	qe := q.Explain(st)
	ex.Checks, ex.Terms, ex.Reasons = qe.Checks, qe.Terms, qe.Reasons
	switch {
	case !qe.Matched:
	case len(r.Sources) > 0 && !slices.Contains(r.Sources, st.Source):
		ex.Reasons = []string{fmt.Sprintf("the query matches, but the rule only listens to %s, not %q",
			quoteList(r.Sources), st.Source)}
	default:
		ex.Matched = true
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

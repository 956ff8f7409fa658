package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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
	// Deliveries are the outbox rows about the story (not digests), oldest
	// first: where it went, or why not.
	Deliveries []store.Delivery
	// Cluster is the story's cluster ("" when it started none of its own
	// and joined none).
	Cluster string
	// AlsoReportedBy are the other stories of its cluster, newest first.
	AlsoReportedBy []story.Story
}

// maxClusterStories bounds the "also reported by" list.
const maxClusterStories = 50

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
	// Recorded is when the bot recorded the match as the story came in
	// (zero: it did not match then).
	Recorded time.Time
	// Outcome says, in words, what became of the match: where it was
	// sent, or why nothing was.
	Outcome []string
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
	matches, err := s.o.Store.StoryMatches(ctx, storyID)
	if err != nil {
		return Explanation{}, err
	}
	ds, err := s.o.Store.Deliveries(ctx, store.DeliveryQuery{StoryID: storyID, Limit: 500})
	if err != nil {
		return Explanation{}, err
	}
	slices.Reverse(ds)
	out := Explanation{Story: st, Rules: make([]RuleExplanation, 0, len(all)), Deliveries: ds, Cluster: st.Cluster}
	if st.Cluster != "" {
		others, err := s.o.Store.Stories(ctx, store.StoryQuery{Cluster: st.Cluster, Limit: maxClusterStories + 1})
		if err != nil {
			return Explanation{}, err
		}
		for _, o := range others {
			if o.ID != st.ID && len(out.AlsoReportedBy) < maxClusterStories {
				out.AlsoReportedBy = append(out.AlsoReportedBy, o)
			}
		}
	}
	for _, r := range all {
		ex := ExplainRule(r, &st)
		if i := slices.IndexFunc(matches, func(m store.Match) bool { return m.Rule == r.Name }); i >= 0 {
			ex.Recorded = matches[i].At
		}
		ex.Outcome = outcome(r, &st, ex, ds)
		out.Rules = append(out.Rules, ex)
	}
	return out, nil
}

// outcome says what became of a rule's verdict on a story: the deliveries
// that name the rule, or why there are none.
func outcome(r store.Rule, st *story.Story, ex RuleExplanation, ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		if !slices.Contains(d.Rules, r.Name) {
			continue
		}
		out = append(out, deliveryOutcome(d))
	}
	if len(out) > 0 {
		return out
	}
	switch {
	case ex.Recorded.IsZero() && ex.Matched && !r.Created.IsZero() && r.Created.After(st.Fetched):
		return []string{"The rule was made after the story came in, so it sent nothing about it."}
	case ex.Recorded.IsZero() && ex.Matched:
		return []string{"The rule matches now but did not when the story came in (it was changed since), so it sent nothing about it."}
	case ex.Recorded.IsZero():
		return nil
	case r.Digest != "":
		return []string{fmt.Sprintf("Matched as the story came in; it goes out in the rule's %s digest.", r.Digest)}
	case r.MinSources > 1:
		return []string{fmt.Sprintf("Matched, but this surge rule alerts only once %d sources carry the story within %s.", r.MinSources, r.Window)}
	}
	return []string{"Matched as the story came in, but no alert was queued: on a source's first fetch only its backfill newest items alert, and a paused rule sends nothing."}
}

// deliveryOutcome says in words what became of one delivery.
func deliveryOutcome(d store.Delivery) string {
	what := "An alert"
	if d.Kind == store.KindFollowUp {
		what = "A follow-up, threaded under the first alert of its event,"
	}
	switch d.Status {
	case store.StatusSent:
		return fmt.Sprintf("%s went to %s.", what, d.Target)
	case store.StatusPending:
		if d.Waiting != "" {
			return fmt.Sprintf("%s waits to go to %s: %s.", what, d.Target, d.Waiting)
		}
		return fmt.Sprintf("%s waits to go to %s.", what, d.Target)
	case store.StatusFailed:
		return fmt.Sprintf("%s to %s failed after %d attempts: %s.", what, d.Target, d.Attempts, d.LastError)
	case store.StatusDuplicate:
		return fmt.Sprintf("Not sent to %s again: it already had this story (from another source or an earlier fetch).", d.Target)
	case store.StatusFolded:
		return fmt.Sprintf("Folded: %s already had an alert about this event, so this copy was not posted.", d.Target)
	case store.StatusSummarised:
		return fmt.Sprintf("Held back by flood control and sent to %s inside a summary.", d.Target)
	}
	return fmt.Sprintf("%s to %s: %s.", what, d.Target, d.Status)
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

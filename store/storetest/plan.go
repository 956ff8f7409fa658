package storetest

import (
	"time"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// EvalPlan is a PlanFunc for tests of what reads the store: for every fresh
// story and every rule of rs whose query matches it (by the straightforward
// evaluator, rules.Query.Eval), a match and a pending delivery to target,
// due at at. Rules whose query does not parse are skipped.
func EvalPlan(rs []store.Rule, target string, at time.Time) store.PlanFunc {
	return Plan(func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		var ms []store.Match
		var ds []store.Delivery
		for i := range fresh {
			s := &fresh[i]
			for _, r := range rs {
				q, err := rules.Parse(r.Query)
				if err != nil {
					continue
				}
				if terms, ok := q.Eval(s); ok {
					ms = append(ms, store.Match{StoryID: s.ID, Rule: r.Name, Terms: terms})
					ds = append(ds, store.Delivery{Target: target, StoryID: s.ID, DedupKey: s.DedupKey(),
						Rules: []string{r.Name}, Terms: terms, NextAttempt: at})
				}
			}
		}
		return ms, ds
	})
}

package bot

import (
	"slices"
	"sort"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// planner turns the fresh stories of one fetch into matches and deliveries.
// It runs inside the store's ingest transaction, so it is pure and quick.
type planner struct {
	rules *RuleSet
}

// plan returns the PlanFunc for one ingest. alertable limits which fresh stories
// the rules act on (the first-fetch backfill); the others are only stored.
func (p *planner) plan(alertable func(fresh []story.Story) map[string]bool) store.PlanFunc {
	return func(fresh []story.Story) ([]store.Match, []store.Delivery) {
		// A matcher per ingest: it sees the rules in force now, and fetch
		// workers running side by side never share one.
		matcher := p.rules.NewMatcher()
		allowed := alertable(fresh)
		var matches []store.Match
		var deliveries []store.Delivery
		for i := range fresh {
			s := &fresh[i]
			if allowed != nil && !allowed[s.ID] {
				continue // backlog of a first fetch: stored, not acted on
			}
			found := matcher.Match(s)
			if len(found) == 0 {
				continue
			}
			byTarget := map[string]*store.Delivery{}
			var order []string
			for _, m := range found {
				r, ok := p.rules.Rule(m.Rule)
				if !ok || !appliesTo(r, s.Source) {
					continue
				}
				matches = append(matches, store.Match{StoryID: s.ID, Rule: m.Rule, Terms: slices.Clone(m.Terms)})
				if r.Digest != "" {
					continue // gathered by the digest
				}
				for _, target := range r.Notify {
					d := byTarget[target]
					if d == nil {
						d = &store.Delivery{Target: target, StoryID: s.ID, DedupKey: s.DedupKey(), Status: store.StatusPending}
						byTarget[target] = d
						order = append(order, target)
					}
					d.Rules = append(d.Rules, m.Rule)
					d.Terms = mergeTerms(d.Terms, m.Terms)
				}
			}
			for _, t := range order {
				deliveries = append(deliveries, *byTarget[t])
			}
		}
		return matches, deliveries
	}
}

// mergeTerms appends the terms of add that dst lacks, keeping first-seen order.
func mergeTerms(dst, add []string) []string {
	for _, t := range add {
		if !slices.Contains(dst, t) {
			dst = append(dst, t)
		}
	}
	return dst
}

// newest returns the ids of the n most recently published stories.
func newest(stories []story.Story, n int) map[string]bool {
	idx := make([]int, len(stories))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return stories[idx[a]].Published.After(stories[idx[b]].Published)
	})
	keep := make(map[string]bool, n)
	for _, i := range idx[:min(n, len(idx))] {
		keep[stories[i].ID] = true
	}
	return keep
}

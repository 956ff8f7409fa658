package bot

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/cluster"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// defaultSurgeWindow is the surge window of a rule with min_sources but no window.
const defaultSurgeWindow = 2 * time.Hour

// planner turns the fresh stories of one fetch into clusters, matches and
// deliveries. It runs inside the store's ingest transaction, so it is quick:
// its only I/O is the transaction's own lookups of cluster candidates.
type planner struct {
	rules   *RuleSet
	judge   *cluster.Judge
	metrics *Metrics
}

// plan returns the PlanFunc for one ingest. alertable limits which fresh stories
// the rules act on (the first-fetch backfill); the others are only stored and
// clustered. ps holds the stories' cluster signatures and facts, made before
// the transaction; the facts are weighed inside it, by the store's term
// counts, which the plan then adds the fresh stories' terms to.
//
// Per story and target it makes at most one instant row naming every rule that
// matched: an alert when the story starts its cluster, else a follow-up
// (threaded, or folded when every rule says follow_ups = "none"). Rules with
// min_sources > 1 make one surge row per cluster once enough distinct sources
// carried it within their window. Digest rules only record their matches.
func (p *planner) plan(alertable func(fresh []story.Story) map[string]bool, ps map[string]textPrint) store.PlanFunc {
	return func(ctx context.Context, tx store.PlanTx, fresh []story.Story) (store.Plan, error) {
		for i := range fresh {
			if _, ok := ps[fresh[i].ID]; !ok {
				ps[fresh[i].ID] = textPrint{cluster.Sign(fresh[i].Title, fresh[i].Summary), cluster.Extract(fresh[i].Title, fresh[i].Summary)}
			}
		}
		bc, err := newBatchClusters(ctx, p.judge, tx, fresh, ps)
		if err != nil {
			return store.Plan{}, err
		}
		// Fetch workers running side by side never share a matcher.
		matcher := p.rules.acquire()
		defer p.rules.release(matcher)
		allowed := alertable(fresh)
		var out store.Plan
		for i := range fresh {
			s := &fresh[i]
			pr := ps[s.ID]
			a := bc.assign(s, pr)
			clusterID, first := a.cluster, a.isNew
			s.Cluster, s.ClusterWhy = clusterID, a.why
			switch {
			case a.copyOf != "":
				if a.stored {
					out.Refresh = append(out.Refresh, a.copyOf)
				}
			case !pr.sig.Empty():
				out.Fingerprints = append(out.Fingerprints, store.Fingerprint{StoryID: s.ID, Sig: marshalPrint(pr), Keys: pr.keys()})
				// A verbatim copy's terms are its original's: counting them
				// again would make a much-syndicated event's names common.
				if pr.facts.Len() > 0 {
					out.Terms = append(out.Terms, pr.facts.Terms()...)
					out.TermStories++
				}
			}
			if allowed != nil && !allowed[s.ID] {
				continue // backlog of a first fetch: stored, not acted on
			}
			found := matcher.Match(s)
			if over := matcher.OverBudget(); len(over) > 0 {
				p.rules.noteOverBudget(over, s.ID)
				if p.metrics != nil {
					p.metrics.RegexBudget.Add(float64(len(over)))
				}
			}
			if len(found) == 0 {
				continue
			}
			rows := newStoryRows(s, first)
			for _, m := range found {
				r, ok := p.rules.Rule(m.Rule)
				if !ok || !appliesTo(r, s.Source) {
					continue
				}
				out.Matches = append(out.Matches, store.Match{StoryID: s.ID, Rule: m.Rule, Terms: slices.Clone(m.Terms)})
				switch {
				case r.Digest != "":
					// gathered by the digest
				case r.MinSources > 1:
					window := r.Window
					if window <= 0 {
						window = defaultSurgeWindow
					}
					carriers, err := bc.carriers(ctx, clusterID, s.Fetched.Add(-window))
					if err != nil {
						return store.Plan{}, err
					}
					if len(carriers) >= r.MinSources {
						rows.surge(r, m.Terms, carriers, window)
					}
				default:
					rows.instant(r, m.Terms)
				}
			}
			out.Deliveries = append(out.Deliveries, rows.list()...)
		}
		return out, nil
	}
}

// storyRows gathers the deliveries of one story: one row per target and kind.
type storyRows struct {
	story *story.Story
	first bool // the story starts its cluster
	rows  map[[2]string]*store.Delivery
	order [][2]string
}

func newStoryRows(s *story.Story, first bool) *storyRows {
	return &storyRows{story: s, first: first, rows: map[[2]string]*store.Delivery{}}
}

func (sr *storyRows) row(target, kind, dedup string) (*store.Delivery, bool) {
	k := [2]string{target, kind}
	if d, ok := sr.rows[k]; ok {
		return d, false
	}
	d := &store.Delivery{
		Target: target, Kind: kind, StoryID: sr.story.ID, DedupKey: dedup,
		Cluster: sr.story.Cluster, Status: store.StatusPending,
	}
	sr.rows[k] = d
	sr.order = append(sr.order, k)
	return d, true
}

// instant adds rule r to the story's alert (or follow-up) row of each target.
func (sr *storyRows) instant(r store.Rule, terms []string) {
	kind := ""
	if !sr.first {
		kind = store.KindFollowUp
	}
	for _, t := range r.Notify {
		d, created := sr.row(t, kind, sr.story.DedupKey())
		if kind == store.KindFollowUp {
			// Folded unless some rule wants the follow-up in the thread.
			if created && r.FollowUps == "none" {
				d.Status = store.StatusFolded
			} else if r.FollowUps != "none" {
				d.Status = store.StatusPending
			}
		}
		d.Rules = append(d.Rules, r.Name)
		d.Terms = mergeTerms(d.Terms, terms)
	}
}

// surge adds rule r to the story's surge row of each target: once per cluster.
func (sr *storyRows) surge(r store.Rule, terms, carriers []string, window time.Duration) {
	for _, t := range r.Notify {
		d, _ := sr.row(t, store.KindSurge, "surge:"+sr.story.Cluster)
		d.Rules = append(d.Rules, r.Name)
		d.Terms = mergeTerms(d.Terms, terms)
		d.Text = fmt.Sprintf("Carried by %d sources within %s: %s", len(carriers), window, strings.Join(carriers, ", "))
	}
}

func (sr *storyRows) list() []store.Delivery {
	out := make([]store.Delivery, 0, len(sr.order))
	for _, k := range sr.order {
		out = append(out, *sr.rows[k])
	}
	return out
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

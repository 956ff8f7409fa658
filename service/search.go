package service

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Page sizes of a lookup: the first page of candidates from the store, and
// the largest a page grows to (doubling while a lookup goes on).
const (
	firstPage = 200
	maxPage   = 3200
	// wallPage is how far a page grows to get past stories that share one
	// publication time before the lookup skips the rest of them.
	wallPage = 25_600
	// budgetEvery is how many candidates are evaluated between looks at the
	// time budget.
	budgetEvery = 128
)

// Hit is a stored story that a query matches, with the terms that matched
// (distinct, lower-cased, as written in the query, in query order).
type Hit struct {
	Story story.Story
	Terms []string
}

// Results are the hits of a search and how much was searched.
type Results struct {
	// Hits are the matching stories, newest published first.
	Hits []Hit
	// Scanned is how many candidate stories were evaluated.
	Scanned int
	// Truncated is true when a bound (MaxScan candidates, the time budget)
	// stopped the search before it had its limit of hits or had seen every
	// candidate: older matches may exist.
	Truncated bool
}

// DayCount is the number of matching stories published on one UTC day.
type DayCount struct {
	// Day is the date, as "2026-11-28".
	Day   string
	Count int
}

// Preview is what a query would have matched among the stored stories.
type Preview struct {
	// Total is the number of matching stories.
	Total int
	// Alerts is the number of alerts they would have made, as
	// store.AlertDefinition counts them: copies of one event (one cluster)
	// once.
	Alerts int
	// PerDay counts the alerts per UTC day (of the event's first published
	// copy), oldest first; every day from since to now is listed, with 0
	// where nothing matched.
	PerDay []DayCount
	// HeldSince is when the oldest stored story was fetched (zero: none):
	// a rate is over the days from then, when the window reaches further.
	HeldSince time.Time
	// Stories are the newest matches, as many as were asked for.
	Stories []Hit
	// Scanned is how many candidate stories were evaluated.
	Scanned int
	// Truncated is true when a bound stopped the count early: Total and
	// PerDay cover the newest Scanned candidates only.
	Truncated bool
}

// Search returns up to limit stored stories published since since (zero: any
// time) that query matches, newest first: exactly the stories a rule with
// that query matches. See SearchResults for the bounds.
func (s *Service) Search(ctx context.Context, query string, since time.Time, limit int) ([]Hit, error) {
	r, err := s.SearchResults(ctx, query, since, limit)
	return r.Hits, err
}

// SearchResults is Search that also says how much was searched. The FTS index
// narrows the candidates (when the query gives a condition for it; regular
// expressions, sites, CJK terms and terms only in source, author, category or
// url give none, and then every story is a candidate) and the rule engine
// decides. The work is bounded: it stops at limit hits (default 10), after
// MaxScan candidates or after the time budget, and reports Truncated then.
// A bad query is an *InvalidError wrapping the *rules.Error.
func (s *Service) SearchResults(ctx context.Context, query string, since time.Time, limit int) (Results, error) {
	if limit <= 0 {
		limit = 10
	}
	q, err := ParseQuery(query)
	if err != nil {
		return Results{}, err
	}
	var res Results
	res.Scanned, res.Truncated, err = s.scan(ctx, q, since, func(h Hit) bool {
		res.Hits = append(res.Hits, h)
		return len(res.Hits) < limit
	})
	return res, err
}

// Preview counts every stored story published since since that query
// matches, per day, and returns the newest sample of them; the bounds are
// those of SearchResults (without a limit of hits).
func (s *Service) Preview(ctx context.Context, query string, since time.Time, sample int) (Preview, error) {
	q, err := ParseQuery(query)
	if err != nil {
		return Preview{}, err
	}
	var p Preview
	// The scan goes newest first: the last day seen for an event is that
	// of its first copy, the one that alerts.
	eventDay := map[string]string{}
	p.Scanned, p.Truncated, err = s.scan(ctx, q, since, func(h Hit) bool {
		p.Total++
		key := h.Story.Cluster
		if key == "" {
			key = h.Story.ID
		}
		eventDay[key] = h.Story.Published.UTC().Format(time.DateOnly)
		if len(p.Stories) < sample {
			p.Stories = append(p.Stories, h)
		}
		return true
	})
	if err != nil {
		return Preview{}, err
	}
	perDay := map[string]int{}
	for _, day := range eventDay {
		perDay[day]++
	}
	p.Alerts = len(eventDay)
	p.PerDay = dayCounts(perDay, since, s.o.Now())
	if p.HeldSince, err = s.o.Store.OldestFetch(ctx); err != nil {
		return Preview{}, err
	}
	return p, nil
}

// maxDays is the longest run of days PerDay fills in with zeros.
const maxDays = 3660

// dayCounts lists counts by day, oldest first, filling in the days from since
// to now that had none.
func dayCounts(perDay map[string]int, since, now time.Time) []DayCount {
	if !since.IsZero() {
		first := since.UTC().Truncate(24 * time.Hour)
		last := now.UTC().Truncate(24 * time.Hour)
		if n := last.Sub(first) / (24 * time.Hour); n >= 0 && n < maxDays {
			for d := first; !d.After(last); d = d.Add(24 * time.Hour) {
				if day := d.Format(time.DateOnly); perDay[day] == 0 {
					perDay[day] = 0
				}
			}
		}
	}
	out := make([]DayCount, 0, len(perDay))
	for day, n := range perDay {
		out = append(out, DayCount{Day: day, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

// scan walks the stored stories published since since, newest first, that
// q's FTS condition lets through, and calls visit for each that the rule
// engine says q matches, until visit returns false or every candidate was
// seen (truncated false), or a bound stops it (truncated true).
//
// Pages are read with Before set one millisecond past the last story of the
// previous page, so that stories sharing that publication time are not
// lost; the ones already seen are skipped by id. (Reading the next page while
// matching this one was tried: on a busy two-core machine it was slower.)
func (s *Service) scan(ctx context.Context, q *rules.Query, since time.Time, visit func(Hit) bool) (scanned int, truncated bool, err error) {
	engine := rules.NewEngine()
	engine.Set("q", q)
	matcher := engine.NewMatcher()
	words := q.Words()
	start := time.Now()
	over := func() bool { return time.Since(start) > s.o.Budget }
	every := budgetEvery
	if q.HasRegex() {
		// One story may cost up to the regular expression budget: look at
		// the clock after each, so that the lookup's budget holds.
		every = 1
	}

	page := firstPage
	var before time.Time
	seen := map[string]bool{} // ids at the publication time where the last page ended
	for {
		if err := ctx.Err(); err != nil {
			return scanned, truncated, err
		}
		batch, err := s.o.Store.Stories(ctx, store.StoryQuery{Words: words, Since: since, Before: before, Limit: page})
		if err != nil {
			return scanned, truncated, err
		}
		fresh := 0
		for i := range batch {
			st := &batch[i]
			if seen[st.ID] {
				continue
			}
			fresh++
			if scanned >= s.o.MaxScan {
				return scanned, true, nil
			}
			scanned++
			if ms := matcher.Match(st); len(ms) > 0 {
				if !visit(Hit{Story: *st, Terms: slices.Clone(ms[0].Terms)}) {
					return scanned, truncated, nil
				}
			}
			if scanned%every == 0 && over() {
				return scanned, true, nil
			}
		}
		if len(batch) < page {
			return scanned, truncated, nil
		}
		if over() {
			return scanned, true, nil
		}
		last := batch[len(batch)-1].Published
		if fresh == 0 {
			// Every story of the page shares one publication time and was
			// seen: read a bigger page, or pass over the rest of that time.
			if page < wallPage {
				page *= 2
				continue
			}
			before, truncated = last, true
			clear(seen)
			continue
		}
		before = last.Add(time.Millisecond)
		clear(seen)
		for i := len(batch) - 1; i >= 0 && batch[i].Published.Equal(last); i-- {
			seen[batch[i].ID] = true
		}
		page = min(page*2, max(page, maxPage))
	}
}

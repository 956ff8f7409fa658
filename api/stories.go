package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// StoryList is the answer of GET /api/v1/stories.
type StoryList struct {
	Stories []Story `json:"stories"`
	// NextBefore is the before= of the next (older) page; null on the last page.
	NextBefore *string `json:"next_before"`
	// Truncated means a bound of the lookup stopped it: older matches may exist.
	Truncated bool `json:"truncated"`
}

// maxStoryLimit is the largest page of a story lookup.
const maxStoryLimit = 100

// pageSlack is how many stories of one publication instant a page reads past
// its cursor.
const pageSlack = 100

// cursor is a position in a newest-first story list: the publication time
// and id of the last story shown. It is written "MILLIS:ID".
type cursor struct {
	at time.Time
	id string
}

func (c cursor) String() string { return strconv.FormatInt(c.at.UnixMilli(), 10) + ":" + c.id }

func parseCursor(s string) (cursor, error) {
	ms, id, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return cursor{}, fmt.Errorf("before %q: want the next_before of the previous page", s)
	}
	return cursor{at: time.UnixMilli(n).UTC(), id: id}, nil
}

// StoryPage looks stories up: with a query, the ones it matches
// (service.SearchBefore); without, the newest stored. before is the cursor
// of the previous page ("" for the first).
func StoryPage(ctx context.Context, svc *service.Service, st store.Store, query, before string, limit int) (StoryList, error) {
	var c cursor
	var bound time.Time
	if before != "" {
		var err error
		if c, err = parseCursor(before); err != nil {
			return StoryList{}, &service.InvalidError{Field: "before", Reason: err.Error()}
		}
		bound = c.at.Add(time.Millisecond)
	}
	fetch := limit + 1
	if before != "" {
		fetch += pageSlack
	}
	var hits []service.Hit
	out := StoryList{Stories: []Story{}}
	if strings.TrimSpace(query) == "" {
		ss, err := st.Stories(ctx, store.StoryQuery{Before: bound, Limit: fetch})
		if err != nil {
			return StoryList{}, err
		}
		for _, s := range ss {
			hits = append(hits, service.Hit{Story: s})
		}
	} else {
		res, err := svc.SearchBefore(ctx, query, time.Time{}, bound, fetch)
		if err != nil {
			return StoryList{}, err
		}
		hits, out.Truncated = res.Hits, res.Truncated
	}
	if before != "" {
		hits = skipThrough(hits, c)
	}
	if len(hits) > limit {
		hits = hits[:limit]
		last := hits[limit-1].Story
		s := cursor{at: last.Published, id: last.ID}.String()
		out.NextBefore = &s
	}
	for _, h := range hits {
		out.Stories = append(out.Stories, StoryOf(h.Story, h.Terms))
	}
	return out, nil
}

// skipThrough drops the stories at the cursor's instant up to and including
// the cursor's story (all of that instant's when it is gone).
func skipThrough(hits []service.Hit, c cursor) []service.Hit {
	at := c.at.UnixMilli()
	for i, h := range hits {
		if h.Story.ID == c.id {
			return hits[i+1:]
		}
		if h.Story.Published.UnixMilli() != at {
			break
		}
	}
	i := 0
	for i < len(hits) && hits[i].Story.Published.UnixMilli() == at {
		i++
	}
	return hits[i:]
}

func (a *API) listStories(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r, maxStoryLimit)
	if !ok {
		return
	}
	q := r.URL.Query()
	out, err := StoryPage(r.Context(), a.o.Service, a.o.Store, q.Get("q"), q.Get("before"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) getStory(w http.ResponseWriter, r *http.Request) {
	s, err := a.o.Store.Story(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, StoryOf(s, nil))
}

// TermCheck is one term of a rule's query and where it was found.
type TermCheck struct {
	Term     string   `json:"term"`
	Negative bool     `json:"negative"`
	Found    bool     `json:"found"`
	Fields   []string `json:"fields"`
}

// RuleVerdict is one rule's verdict on a story.
type RuleVerdict struct {
	ID      int64       `json:"id"`
	Name    string      `json:"name"`
	Query   string      `json:"query"`
	Origin  string      `json:"origin"`
	Paused  bool        `json:"paused"`
	Matched bool        `json:"matched"`
	Terms   []string    `json:"terms"`
	Checks  []TermCheck `json:"checks"`
	Reasons []string    `json:"reasons"`
	// Recorded is when the match was recorded as the story came in (null:
	// it did not match then).
	Recorded *time.Time `json:"recorded"`
	// Outcome says what became of the match: where it went, or why not.
	Outcome []string `json:"outcome"`
}

// Explanation is the answer of GET /api/v1/stories/{id}/explain.
type Explanation struct {
	Story Story         `json:"story"`
	Rules []RuleVerdict `json:"rules"`
	// Deliveries are the outbox rows about the story, oldest first.
	Deliveries []Alert `json:"deliveries"`
	// Cluster is the story's cluster, "" when it has none.
	Cluster string `json:"cluster"`
	// AlsoReportedBy are the other stories of its cluster, newest first.
	AlsoReportedBy []Story `json:"also_reported_by"`
}

// ExplanationOf converts a service explanation.
func ExplanationOf(ex service.Explanation) Explanation {
	out := Explanation{Story: StoryOf(ex.Story, nil), Rules: make([]RuleVerdict, 0, len(ex.Rules)),
		Deliveries: make([]Alert, 0, len(ex.Deliveries)), Cluster: ex.Cluster, AlsoReportedBy: make([]Story, 0, len(ex.AlsoReportedBy))}
	for _, d := range ex.Deliveries {
		out.Deliveries = append(out.Deliveries, AlertOf(d))
	}
	for _, st := range ex.AlsoReportedBy {
		out.AlsoReportedBy = append(out.AlsoReportedBy, StoryOf(st, nil))
	}
	for _, r := range ex.Rules {
		v := RuleVerdict{ID: r.Rule.ID, Name: r.Rule.Name, Query: r.Rule.Query, Origin: r.Rule.Origin,
			Paused: r.Rule.Paused, Matched: r.Matched, Terms: r.Terms, Checks: []TermCheck{}, Reasons: r.Reasons,
			Recorded: timePtr(r.Recorded), Outcome: r.Outcome}
		if v.Outcome == nil {
			v.Outcome = []string{}
		}
		if v.Terms == nil {
			v.Terms = []string{}
		}
		if v.Reasons == nil {
			v.Reasons = []string{}
		}
		for _, c := range r.Checks {
			f := c.Fields
			if f == nil {
				f = []string{}
			}
			v.Checks = append(v.Checks, TermCheck{Term: c.Term, Negative: c.Negative, Found: len(c.Fields) > 0, Fields: f})
		}
		out.Rules = append(out.Rules, v)
	}
	return out
}

func (a *API) explainStory(w http.ResponseWriter, r *http.Request) {
	ex, err := a.o.Service.Explain(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, ExplanationOf(ex))
}

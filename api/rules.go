package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// Rule is a rule as the API shows it.
type Rule struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Query      string     `json:"query"`
	Notify     []string   `json:"notify"`
	Digest     string     `json:"digest"`
	Timezone   string     `json:"timezone,omitempty"`
	Sources    []string   `json:"sources"`
	FollowUps  string     `json:"follow_ups,omitempty"`
	MinSources int        `json:"min_sources,omitempty"`
	Window     string     `json:"window,omitempty"`
	Paused     bool       `json:"paused"`
	Origin     string     `json:"origin"`
	Author     string     `json:"author,omitempty"`
	Channel    string     `json:"channel,omitempty"`
	Created    *time.Time `json:"created"`
	// Matches7d is set in lists: the rule's matches in the last 7 days.
	Matches7d *int `json:"matches_7d,omitempty"`
	// Alerts7d is set in lists: the rule's alerts in the last 7 days, as
	// store.AlertDefinition counts them.
	Alerts7d *int `json:"alerts_7d,omitempty"`
	// RegexOverBudget is set in lists when the rule's regular expressions
	// ran out of the time budget per story: how many stories, since this
	// replica started.
	RegexOverBudget int `json:"regex_over_budget,omitempty"`
}

// RuleOf converts a stored rule.
func RuleOf(r store.Rule) Rule {
	out := Rule{
		ID: r.ID, Name: r.Name, Query: r.Query, Notify: r.Notify, Digest: r.Digest, Timezone: r.Timezone,
		Sources: r.Sources, FollowUps: r.FollowUps, MinSources: r.MinSources, Paused: r.Paused,
		Origin: r.Origin, Author: r.Author, Channel: r.Channel, Created: timePtr(r.Created),
	}
	if out.Notify == nil {
		out.Notify = []string{}
	}
	if out.Sources == nil {
		out.Sources = []string{}
	}
	if r.Window > 0 {
		out.Window = r.Window.String()
	}
	return out
}

// RuleList is the answer of GET /api/v1/rules.
type RuleList struct {
	Rules []Rule `json:"rules"`
}

func (a *API) listRules(w http.ResponseWriter, r *http.Request) {
	all, err := a.o.Service.Rules(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := RuleList{Rules: make([]Rule, 0, len(all))}
	for _, ri := range all {
		j := RuleOf(ri.Rule)
		n, a := ri.Matches7d, ri.Alerts7d
		j.Matches7d, j.Alerts7d = &n, &a
		j.RegexOverBudget = ri.OverBudget
		out.Rules = append(out.Rules, j)
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) getRule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	rule, err := a.o.Store.Rule(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, RuleOf(rule))
}

// NewRule is the body of POST /api/v1/rules. The checks are those of the
// configuration file: the query must parse, notify name at least one target,
// digest be "", hourly, daily, weekly or a cron spec.
type NewRule struct {
	Name       string   `json:"name"`
	Query      string   `json:"query"`
	Notify     []string `json:"notify"`
	Digest     string   `json:"digest"`
	Timezone   string   `json:"timezone"`
	Sources    []string `json:"sources"`
	FollowUps  string   `json:"follow_ups"`
	MinSources int      `json:"min_sources"`
	Window     string   `json:"window"`
	Paused     bool     `json:"paused"`
}

func (a *API) addRule(w http.ResponseWriter, r *http.Request) {
	var in NewRule
	if !decode(w, r, &in) {
		return
	}
	rule := store.Rule{
		Name: strings.TrimSpace(in.Name), Query: in.Query, Notify: in.Notify, Digest: in.Digest, Timezone: in.Timezone,
		Sources: in.Sources, FollowUps: in.FollowUps, MinSources: in.MinSources, Paused: in.Paused,
		Origin: store.OriginAPI, Author: "api",
	}
	if in.Window != "" {
		d, err := time.ParseDuration(in.Window)
		if err != nil || d < 0 {
			WriteJSON(w, http.StatusBadRequest, Error{Error: "window: want a duration such as 2h", Field: "window"})
			return
		}
		rule.Window = d
	}
	stored, err := a.o.Service.AddRule(r.Context(), rule)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, RuleOf(stored))
}

// RulePatch is the body of PATCH /api/v1/rules/{id}; absent fields stay.
type RulePatch struct {
	Query  *string  `json:"query"`
	Notify []string `json:"notify"`
	Digest *string  `json:"digest"`
	Paused *bool    `json:"paused"`
}

func (a *API) patchRule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in RulePatch
	if !decode(w, r, &in) {
		return
	}
	rule, err := a.o.Service.UpdateRule(r.Context(), id, service.RulePatch{Query: in.Query, Notify: in.Notify, Digest: in.Digest, Paused: in.Paused})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, RuleOf(rule))
}

func (a *API) deleteRule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.o.Service.DeleteRule(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// PreviewRequest is the body of POST /api/v1/rules/preview.
type PreviewRequest struct {
	Query string `json:"query"`
	// Days is how far back to look (default 30, at most MaxPreviewDays).
	Days int `json:"days"`
	// Limit is how many matching stories to return (default PreviewSample, at most 100).
	Limit int `json:"limit"`
}

// DayCount is one day of a preview.
type DayCount struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

// Story is a story as the API shows it.
type Story struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	URL        string    `json:"url"`
	Source     string    `json:"source"`
	Author     string    `json:"author,omitempty"`
	Categories []string  `json:"categories,omitempty"`
	Published  time.Time `json:"published"`
	Summary    string    `json:"summary"`
	Cluster    string    `json:"cluster,omitempty"`
	// Terms are the query's terms that matched, in lookups and previews.
	Terms []string `json:"terms,omitempty"`
}

// StoryOf converts a story, with the terms that matched it.
func StoryOf(s story.Story, terms []string) Story {
	return Story{
		ID: s.ID, Title: s.Title, URL: s.URL, Source: s.Source, Author: s.Author, Categories: s.Categories,
		Published: s.Published.UTC(), Summary: s.Summary, Cluster: s.Cluster, Terms: terms,
	}
}

// PreviewResult is the answer of POST /api/v1/rules/preview.
type PreviewResult struct {
	// Total is the number of matching stories.
	Total int `json:"total"`
	// Alerts is the number of alerts they would have made, as the rules
	// list and the overview count them (Definition): syndicated copies of
	// one event once.
	Alerts int `json:"alerts"`
	// Definition says what an alert is, as every count of alerts uses it.
	Definition string `json:"definition"`
	// PerDay is the alerts of every day of the window, oldest first (UTC
	// days).
	PerDay []DayCount `json:"per_day"`
	// AlertsPerDay is the alerts of the last CoveredDays days over them.
	AlertsPerDay float64 `json:"alerts_per_day"`
	// CoveredDays is how many days AlertsPerDay is over: the window, or
	// the days since the store's oldest story was fetched when that is
	// fewer (older stories of a first fetch's backlog are a partial
	// sample), or, when Truncated, the days from the oldest day with a
	// match to today.
	CoveredDays int `json:"covered_days"`
	// Stories are the newest matches, as many as were asked for.
	Stories []Story `json:"stories"`
	// More is how many matching stories there are beyond Stories.
	More int `json:"more"`
	// Scanned is how many stored stories were looked at.
	Scanned int `json:"scanned"`
	// Truncated means a bound stopped the count: Total covers the newest
	// Scanned stories only.
	Truncated bool `json:"truncated"`
}

// PreviewOf converts a service preview made at now.
func PreviewOf(p service.Preview, now time.Time) PreviewResult {
	out := PreviewResult{Total: p.Total, Alerts: p.Alerts, Definition: store.AlertDefinition, Scanned: p.Scanned,
		Truncated: p.Truncated, PerDay: make([]DayCount, 0, len(p.PerDay)), Stories: make([]Story, 0, len(p.Stories))}
	for _, d := range p.PerDay {
		out.PerDay = append(out.PerDay, DayCount{Day: d.Day, Count: d.Count})
	}
	// The rate is over the days the store has been fetching (not those of
	// a first fetch's backlog) and, when the scan stopped early, the days
	// from the oldest match it saw: the alerts of those days over them.
	start := 0
	if !p.HeldSince.IsZero() {
		held := p.HeldSince.UTC().Format(time.DateOnly)
		for start < len(p.PerDay) && p.PerDay[start].Day < held {
			start++
		}
	}
	if p.Truncated {
		for i, d := range p.PerDay {
			if d.Count > 0 {
				start = max(start, i)
				break
			}
		}
	}
	start = min(start, max(len(p.PerDay)-1, 0))
	alerts := 0
	for _, d := range p.PerDay[start:] {
		alerts += d.Count
	}
	out.CoveredDays = len(p.PerDay) - start
	if out.CoveredDays > 0 {
		out.AlertsPerDay = float64(int(float64(alerts)/float64(out.CoveredDays)*10+0.5)) / 10
	}
	for _, h := range p.Stories {
		out.Stories = append(out.Stories, StoryOf(h.Story, h.Terms))
	}
	out.More = max(p.Total-len(out.Stories), 0)
	return out
}

// PreviewWindow returns the start of a preview window of days days (1 to
// MaxPreviewDays; 0 means 30) ending now: midnight UTC days-1 days ago.
func PreviewWindow(days int, now time.Time) (time.Time, bool) {
	if days == 0 {
		days = 30
	}
	if days < 1 || days > MaxPreviewDays {
		return time.Time{}, false
	}
	return now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(days - 1)), true
}

func (a *API) previewRule(w http.ResponseWriter, r *http.Request) {
	var in PreviewRequest
	if !decode(w, r, &in) {
		return
	}
	since, ok := PreviewWindow(in.Days, a.o.Service.Now())
	if !ok {
		WriteJSON(w, http.StatusBadRequest, Error{Error: "days: want 1 to 366", Field: "days"})
		return
	}
	limit := in.Limit
	if limit == 0 {
		limit = PreviewSample
	}
	if limit < 0 || limit > 100 {
		WriteJSON(w, http.StatusBadRequest, Error{Error: "limit: want 0 to 100", Field: "limit"})
		return
	}
	p, err := a.preview.Preview(r.Context(), in.Query, since, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, PreviewOf(p, a.o.Service.Now()))
}

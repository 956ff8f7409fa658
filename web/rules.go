package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// previewDays is the window of the editor's live preview.
const previewDays = 30

// previewSample is how many matching stories the editor lists.
const previewSample = 15

type rulesData struct {
	Rules []service.RuleInfo
	// Saved is the rule just saved (0: none), marked in its row.
	Saved int64
}

type ruleData struct {
	ID       int64
	New      bool
	ReadOnly bool
	Origin   string
	Name     string
	Query    string
	Notify   string
	Digest   string
	Paused   bool
	// Errs are problems with fields other than the query, by field name
	// ("name", "notify", "digest"); Err a problem with none of them.
	Errs map[string]string
	Err  string
	// Picks are the targets offered as check boxes, Other the targets
	// typed in by hand; Notifiers describe the configured notifiers.
	Picks     []targetPick
	Other     string
	Notifiers []config.TargetChoice
	Preview   previewData
}

// targetPick is a target offered as a check box.
type targetPick struct {
	Target  string
	Checked bool
}

// queryError is a query's error, with the caret line under its column.
type queryError struct {
	Reason string
	Column int
	// Line is the query as shown (tabs and line breaks as spaces), Caret the
	// spaces and '^' that point at Column under it.
	Line, Caret string
}

type previewData struct {
	Query        string
	Days         int
	Err          *queryError
	Total        int
	AlertsPerDay string
	Chart        chart
	Stories      []api.Story
	More         int
	Alerts       int
	Scanned      int
	Truncated    bool
	CoveredDays  int
}

func (d *dashboard) rules(w http.ResponseWriter, r *http.Request) {
	all, err := d.svc.Rules(r.Context())
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data := rulesData{Rules: all}
	if r.URL.Query().Get("done") == "saved" {
		data.Saved, _ = strconv.ParseInt(r.URL.Query().Get("rule"), 10, 64)
	}
	d.render(w, r, http.StatusOK, "rules", page{Title: "Rules", Nav: "rules", Data: data})
}

// withTargets fills in the targets people can pick from: the configured
// notifiers that take no channel or have a default, and the targets in use.
// The rule's targets that are not offered go to Other.
func (d *dashboard) withTargets(r *http.Request, data *ruleData, current []string) {
	choices, known, err := d.svc.TargetChoices(r.Context())
	if err != nil {
		d.log.Warn("target choices", "err", err)
	}
	data.Notifiers = choices
	offer := slices.Clone(known)
	for _, c := range choices {
		if c.Channel != config.RequiredChannel && !slices.Contains(offer, c.Notifier) {
			offer = append(offer, c.Notifier)
		}
	}
	slices.Sort(offer)
	var other []string
	for _, t := range current {
		if !slices.Contains(offer, t) {
			other = append(other, t)
		}
	}
	for _, t := range offer {
		data.Picks = append(data.Picks, targetPick{Target: t, Checked: slices.Contains(current, t)})
	}
	data.Other = strings.Join(other, ", ")
}

func (d *dashboard) newRule(w http.ResponseWriter, r *http.Request) {
	data := ruleData{New: true, Query: r.URL.Query().Get("q"), Preview: previewData{Days: previewDays}}
	if data.Query != "" {
		data.Preview = d.runPreview(r, data.Query)
	}
	d.withTargets(r, &data, nil)
	d.render(w, r, http.StatusOK, "rule", page{Title: "New rule", Nav: "rules", Data: data})
}

func (d *dashboard) editRule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusNotFound, "No such rule.")
		return
	}
	rule, err := d.st.Rule(r.Context(), id)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data := ruleData{ID: rule.ID, ReadOnly: rule.Origin == store.OriginConfig, Origin: rule.Origin, Name: rule.Name,
		Query: rule.Query, Notify: strings.Join(rule.Notify, ", "), Digest: rule.Digest, Paused: rule.Paused}
	data.Preview = d.runPreview(r, rule.Query)
	d.withTargets(r, &data, rule.Notify)
	d.render(w, r, http.StatusOK, "rule", page{Title: "Rule " + rule.Name, Nav: "rules", Data: data})
}

// targetsOf splits the notify field at commas and white space.
func targetsOf(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
}

func (d *dashboard) saveRule(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	var notify []string
	for _, v := range r.PostForm["notify"] {
		notify = append(notify, targetsOf(v)...)
	}
	data := ruleData{Name: strings.TrimSpace(r.PostFormValue("name")), Query: r.PostFormValue("query"),
		Notify: strings.Join(notify, ", "), Digest: r.PostFormValue("digest"), Paused: r.PostFormValue("paused") == "on"}
	var saved store.Rule
	var err error
	if r.PathValue("id") == "" {
		data.New = true
		saved, err = d.svc.AddRule(r.Context(), store.Rule{Name: data.Name, Query: data.Query, Notify: targetsOf(data.Notify),
			Digest: data.Digest, Paused: data.Paused, Origin: store.OriginAPI, Author: "dashboard"})
	} else {
		id, ok := pathID(r)
		if !ok {
			d.fail(w, r, http.StatusNotFound, "No such rule.")
			return
		}
		data.ID = id
		if old, gerr := d.st.Rule(r.Context(), id); gerr == nil {
			data.Name, data.Origin = old.Name, old.Origin
		}
		saved, err = d.svc.UpdateRule(r.Context(), id, service.RulePatch{Query: &data.Query, Notify: targetsOf(data.Notify),
			Digest: &data.Digest, Paused: &data.Paused})
	}
	if err != nil {
		code := api.Status(err)
		if code != http.StatusBadRequest && code != http.StatusConflict {
			d.failErr(w, r, err)
			return
		}
		data.ReadOnly = errors.Is(err, service.ErrReadOnly)
		data.Preview = d.runPreview(r, data.Query)
		d.withTargets(r, &data, notify)
		var ie *service.InvalidError
		switch {
		case errors.As(err, &ie) && ie.Field == "query":
			// The preview shows it, with the caret.
		case errors.As(err, &ie) && (ie.Field == "name" || ie.Field == "notify" || ie.Field == "digest"):
			data.Errs = map[string]string{ie.Field: sentence(ie.Reason)}
		case errors.As(err, &ie):
			data.Err = sentence(ie.Reason)
		default:
			data.Err = err.Error()
		}
		title := "New rule"
		if !data.New {
			title = "Rule " + data.Name
		}
		d.render(w, r, code, "rule", page{Title: title, Nav: "rules", Data: data})
		return
	}
	done(w, r, "/rules?rule="+itoa(saved.ID)+"#rule-"+itoa(saved.ID), "saved")
}

func (d *dashboard) pauseRule(w http.ResponseWriter, r *http.Request) {
	d.setPaused(w, r, func(ctx context.Context, id int64, paused bool) error {
		_, err := d.svc.UpdateRule(ctx, id, service.RulePatch{Paused: &paused})
		return err
	}, func(int64) string { return "/rules" })
}

// setPaused handles a pause or resume form: update sets the flag of the
// object with the path's id, then the browser goes to back(id).
func (d *dashboard) setPaused(w http.ResponseWriter, r *http.Request,
	update func(ctx context.Context, id int64, paused bool) error, back func(id int64) string) {
	id, ok := pathID(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if !ok || r.ParseForm() != nil {
		d.fail(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	paused := r.PostFormValue("paused") == "true"
	if err := update(r.Context(), id, paused); err != nil {
		d.failErr(w, r, err)
		return
	}
	notice := "resumed"
	if paused {
		notice = "paused"
	}
	done(w, r, back(id), notice)
}

// confirmData is a question before an action that cannot be undone.
type confirmData struct {
	Question string
	Detail   string
	Action   string // where the form posts
	Button   string
	Cancel   string // where "keep it" goes
}

func (d *dashboard) confirmDeleteRule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusNotFound, "No such rule.")
		return
	}
	rule, err := d.st.Rule(r.Context(), id)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	if rule.Origin == store.OriginConfig {
		d.fail(w, r, http.StatusConflict, "The rule "+rule.Name+" is defined in the configuration file: remove it there.")
		return
	}
	d.render(w, r, http.StatusOK, "confirm", page{Title: "Delete rule " + rule.Name, Nav: "rules", Data: confirmData{
		Question: "Delete the rule " + rule.Name + "?",
		Detail:   "Its query is " + rule.Query + ". It stops alerting at once; alerts already sent stay in the delivery log. This cannot be undone.",
		Action:   "/rules/" + itoa(id) + "/delete", Button: "Delete rule", Cancel: "/rules#rule-" + itoa(id)}})
}

func (d *dashboard) deleteRule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	if err := d.svc.DeleteRule(r.Context(), id); err != nil {
		d.failErr(w, r, err)
		return
	}
	done(w, r, "/rules", "deleted")
}

// previewRule answers the editor's live preview: an HTML fragment that htmx
// swaps in, 200 even for a bad query (htmx swaps only 2xx answers).
func (d *dashboard) previewRule(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	d.fragment(w, http.StatusOK, "preview", d.runPreview(r, r.PostFormValue("query")))
}

// runPreview previews a query over the last previewDays days.
func (d *dashboard) runPreview(r *http.Request, query string) previewData {
	data := previewData{Query: query, Days: previewDays}
	since, _ := api.PreviewWindow(previewDays, d.svc.Now())
	p, err := d.preview.Preview(r.Context(), query, since, previewSample)
	if err != nil {
		var qe *rules.Error
		if errors.As(err, &qe) {
			data.Err = caretOf(query, qe)
			return data
		}
		d.log.Warn("preview", "err", err)
		data.Err = &queryError{Reason: "the preview failed; see the server log"}
		return data
	}
	res := api.PreviewOf(p, d.svc.Now())
	data.Total, data.Stories, data.Scanned, data.Truncated = res.Total, res.Stories, res.Scanned, res.Truncated
	data.More, data.Alerts = res.More, res.Alerts
	data.CoveredDays = res.CoveredDays
	data.AlertsPerDay = strconv.FormatFloat(res.AlertsPerDay, 'f', 1, 64)
	days := make([]string, 0, len(p.PerDay))
	counts := make([]int, 0, len(p.PerDay))
	for _, dc := range p.PerDay {
		days = append(days, dc.Day)
		counts = append(counts, dc.Count)
	}
	data.Chart = stackedChart(days, []series{seriesOf("alerts", counts)})
	return data
}

// caretOf places a caret under the column of a query error.
func caretOf(query string, qe *rules.Error) *queryError {
	line := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, query)
	col := max(qe.Column, 1)
	if n := utf8.RuneCountInString(line); col > n+1 {
		col = n + 1
	}
	return &queryError{Reason: qe.Reason, Column: qe.Column, Line: line,
		Caret: strings.Repeat(" ", col-1) + "^"}
}

// upperFirst capitalises the first letter of a reason, to start a sentence.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// sentence makes a reason a sentence: a capital first letter and a full
// stop, unless it ends in one already (or in "?" or "!").
func sentence(s string) string {
	s = upperFirst(strings.TrimSpace(s))
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

// ruleMode describes how a rule delivers.
func ruleMode(r store.Rule) string {
	switch {
	case r.Digest != "":
		return r.Digest + " digest"
	case r.MinSources > 1:
		return fmt.Sprintf("surge: %d sources", r.MinSources)
	}
	return "instant"
}

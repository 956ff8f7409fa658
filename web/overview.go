package web

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/schedule"
	"github.com/wirewatch/wirewatch/store"
)

// chartDays is how many days the overview's chart shows.
const chartDays = 14

type overviewData struct {
	Failing  []store.Source
	SourceN  int
	RuleN    int
	Outbox   int
	Recent   []api.Alert
	NextRuns []nextRun
	Chart    chart
	// FailingTargets are targets whose last attempt failed; Targets
	// counts the targets that have had deliveries.
	FailingTargets []store.TargetState
	Targets        int
	// Notifiers counts the configured notifiers (-1: not known).
	Notifiers int
}

// nextRun is one scheduled job: a source fetch or a rule's digest.
type nextRun struct {
	At   time.Time
	What string
	Kind string // "fetch" or "digest"
	Link string
	Note string
}

func (d *dashboard) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := d.svc.Now()
	sources, err := d.svc.Sources(ctx)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	rules, err := d.st.Rules(ctx)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data := overviewData{SourceN: len(sources), RuleN: len(rules)}
	for _, s := range sources {
		if s.State.Failures > 0 {
			data.Failing = append(data.Failing, s)
		}
	}
	sort.SliceStable(data.Failing, func(i, j int) bool { return data.Failing[i].State.Failures > data.Failing[j].State.Failures })
	if data.Outbox, err = d.st.OutboxDepth(ctx); err != nil {
		d.failErr(w, r, err)
		return
	}
	if data.Recent, _, err = api.Alerts(ctx, d.st, api.AlertQuery{Limit: 10}); err != nil {
		d.failErr(w, r, err)
		return
	}
	data.NextRuns = nextRuns(sources, rules, d.o.FetchInterval, d.scheduled, now, 8)
	if data.Chart, err = d.alertChart(ctx, rules, now); err != nil {
		d.failErr(w, r, err)
		return
	}
	targets, err := d.st.Targets(ctx)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data.Targets = len(targets)
	for _, t := range targets {
		if t.LastError != "" && t.LastErrorAt.After(t.LastSent) {
			data.FailingTargets = append(data.FailingTargets, t)
		}
	}
	data.Notifiers = -1
	if choices, _, err := d.svc.TargetChoices(ctx); err == nil && choices != nil {
		data.Notifiers = len(choices)
	}
	d.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Data: data})
}

// alertChart counts the alerts per rule per day over the last chartDays
// days, as store.AlertDefinition says (the rules list and the preview count
// the same way).
func (d *dashboard) alertChart(ctx context.Context, rules []store.Rule, now time.Time) (chart, error) {
	first := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(chartDays - 1))
	rows, err := d.st.MatchDays(ctx, first)
	if err != nil {
		return chart{}, err
	}
	days := make([]string, chartDays)
	index := map[string]int{}
	for i := range days {
		days[i] = first.AddDate(0, 0, i).Format(time.DateOnly)
		index[days[i]] = i
	}
	counts := map[string][]int{}
	for _, row := range rows {
		i, ok := index[row.Day]
		if !ok {
			continue
		}
		if counts[row.Rule] == nil {
			counts[row.Rule] = make([]int, chartDays)
		}
		counts[row.Rule][i] += row.Alerts
	}
	var names []string
	for _, r := range rules {
		if counts[r.Name] != nil {
			names = append(names, r.Name)
		}
	}
	for name := range counts {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	series := make([]series, 0, len(names))
	for _, n := range names {
		series = append(series, seriesOf(n, counts[n]))
	}
	return stackedChart(days, series), nil
}

// scheduled returns when a source is due next, as the store says (ok false:
// due now, or never fetched).
func (d *dashboard) scheduled(s store.Source) (time.Time, bool) {
	return s.State.NextFetch, !s.State.NextFetch.IsZero()
}

// nextRuns lists the soonest scheduled jobs: each unpaused source's next
// fetch (from the bot's schedule when it answers, else estimated) and each
// digest rule's next digest.
func nextRuns(sources []store.Source, rules []store.Rule, interval time.Duration,
	scheduled func(store.Source) (time.Time, bool), now time.Time, n int) []nextRun {
	var out []nextRun
	for _, s := range sources {
		if s.Paused {
			continue
		}
		run := nextRun{What: s.Name, Kind: "fetch", Link: "/sources/" + itoa(s.ID)}
		at, known := scheduled(s)
		switch {
		case s.State.NextFetch.After(now):
			run.At, run.Note = s.State.NextFetch, "backing off after failures"
			if known {
				run.At = at
			}
		case known:
			run.At, run.Note = at, "scheduled"
		case s.Schedule != "":
			sched, err := schedule.ParseCron(s.Schedule)
			if err != nil {
				continue
			}
			run.At, run.Note = sched.Next(now), "schedule "+sched.Describe()
		default:
			every := s.Interval
			if every <= 0 {
				every = interval
			}
			run.At, run.Note = s.State.LastFetch.Add(every), "every "+humanDuration(every)
			if s.State.LastFetch.IsZero() {
				run.Note = "first fetch"
			}
			if run.At.Before(now) {
				run.At = now
			}
		}
		out = append(out, run)
	}
	for _, r := range rules {
		if r.Digest == "" || r.Paused {
			continue
		}
		// When the bot closes the rule's period; it sends the digest within
		// a minute or so after.
		if sched, err := schedule.Parse(r.Digest, r.Timezone); err == nil {
			out = append(out, nextRun{At: sched.Next(now), What: r.Name, Kind: "digest", Link: "/rules/" + itoa(r.ID),
				Note: "digest " + sched.Describe()})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

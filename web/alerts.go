package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/wirewatch/wirewatch/api"
)

type alertsData struct {
	Alerts   []api.Alert
	Rule     string
	Status   string
	Target   string
	Since    string
	Statuses []string
	Rules    []string
	// Next is the URL of the next (older) page, "" on the last.
	Next string
	// FilterError says what is wrong with a filter value.
	FilterError string
}

func (d *dashboard) alerts(w http.ResponseWriter, r *http.Request) {
	code := http.StatusOK
	var filterErr string
	q, err := api.ParseAlertQuery(r, d.svc.Now())
	if err != nil {
		// Show the log unfiltered by the bad value, with the reason next
		// to the filters.
		code, filterErr = http.StatusBadRequest, sentence(err.Error())
		q = api.AlertQuery{Rule: r.URL.Query().Get("rule"), Target: r.URL.Query().Get("target"), Limit: api.DefaultLimit}
	}
	alerts, next, err := api.Alerts(r.Context(), d.st, q)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data := alertsData{Alerts: alerts, Rule: q.Rule, Status: q.Status, Target: q.Target,
		Since: r.URL.Query().Get("since"), Statuses: api.Statuses, FilterError: filterErr}
	if rules, err := d.st.Rules(r.Context()); err == nil {
		for _, rule := range rules {
			data.Rules = append(data.Rules, rule.Name)
		}
	}
	if next > 0 {
		v := url.Values{}
		for k, val := range map[string]string{"rule": q.Rule, "status": q.Status, "target": q.Target, "since": data.Since} {
			if val != "" {
				v.Set(k, val)
			}
		}
		v.Set("before", strconv.FormatInt(next, 10))
		data.Next = "/alerts?" + v.Encode()
	}
	d.render(w, r, code, "alerts", page{Title: "Alerts", Nav: "alerts", Data: data})
}

func (d *dashboard) retryAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	if err := d.st.Retry(r.Context(), id); err != nil {
		if api.Status(err) == http.StatusConflict {
			d.fail(w, r, http.StatusConflict, "Only a failed or pending alert can be retried; this one is neither.")
			return
		}
		d.failErr(w, r, err)
		return
	}
	done(w, r, "/alerts", "retried")
}

// cancelAlert gives a pending alert up (kept as failed; it can be retried).
func (d *dashboard) cancelAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	if err := d.st.Cancel(r.Context(), id, api.CancelReason); err != nil {
		if api.Status(err) == http.StatusConflict {
			d.fail(w, r, http.StatusConflict, "Only a pending alert can be cancelled; this one is not pending.")
			return
		}
		d.failErr(w, r, err)
		return
	}
	done(w, r, "/alerts", "cancelled")
}

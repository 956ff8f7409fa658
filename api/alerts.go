package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// Alert is one row of the delivery log.
type Alert struct {
	ID       int64    `json:"id"`
	Target   string   `json:"target"`
	Kind     string   `json:"kind"`
	Status   string   `json:"status"`
	Story    *Story   `json:"story"`
	StoryIDs []string `json:"story_ids,omitempty"`
	// Stories are the stories a digest or summary carries, where stored.
	Stories     []Story    `json:"stories,omitempty"`
	Rules       []string   `json:"rules"`
	Terms       []string   `json:"terms"`
	Cluster     string     `json:"cluster,omitempty"`
	ParentID    int64      `json:"parent_id,omitempty"`
	Text        string     `json:"text,omitempty"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt"`
	// Waiting says why a pending row is not sent yet: a receiver's
	// Retry-After, backoff after an error, flood control, or "due" when it
	// goes out at the next look.
	Waiting   string     `json:"waiting,omitempty"`
	LastError string     `json:"last_error"`
	Created   *time.Time `json:"created"`
	Sent      *time.Time `json:"sent"`
}

// AlertList is the answer of GET /api/v1/alerts.
type AlertList struct {
	Alerts []Alert `json:"alerts"`
	// NextBefore is the before= of the next (older) page; null on the last page.
	NextBefore *int64 `json:"next_before"`
}

// Statuses are the delivery statuses the log can be filtered by.
var Statuses = []string{store.StatusSent, store.StatusPending, store.StatusFailed,
	store.StatusDuplicate, store.StatusFolded, store.StatusSummarised}

// AlertQuery selects a page of the delivery log.
type AlertQuery struct {
	Rule   string
	Status string
	Target string
	Since  time.Time
	// Before is the id of the last row of the previous page (0: the newest).
	Before int64
	Limit  int
}

// ParseAlertQuery reads rule=, status=, target=, since=, before= and limit= of a request.
func ParseAlertQuery(r *http.Request, now time.Time) (AlertQuery, error) {
	q := r.URL.Query()
	aq := AlertQuery{Rule: q.Get("rule"), Status: q.Get("status"), Target: q.Get("target"), Limit: DefaultLimit}
	if aq.Status != "" && !slices.Contains(Statuses, aq.Status) {
		return aq, fmt.Errorf("status %q: want one of %v", aq.Status, Statuses)
	}
	var err error
	if aq.Since, err = ParseSince(q.Get("since"), now); err != nil {
		return aq, err
	}
	if s := q.Get("before"); s != "" {
		if aq.Before, err = strconv.ParseInt(s, 10, 64); err != nil || aq.Before <= 0 {
			return aq, fmt.Errorf("before %q: want the id of the last alert of the previous page", s)
		}
	}
	if s := q.Get("limit"); s != "" {
		if aq.Limit, err = strconv.Atoi(s); err != nil || aq.Limit < 1 || aq.Limit > MaxLimit {
			return aq, fmt.Errorf("limit %q: want a number from 1 to %d", s, MaxLimit)
		}
	}
	return aq, nil
}

// Alerts reads one page of the delivery log, newest first, with each alert's
// story, and the cursor of the next page (0: none).
func Alerts(ctx context.Context, st store.Store, q AlertQuery) ([]Alert, int64, error) {
	rows, err := st.Deliveries(ctx, store.DeliveryQuery{
		Rule: q.Rule, Status: q.Status, Target: q.Target, Since: q.Since, Before: q.Before, Limit: q.Limit + 1,
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = rows[len(rows)-1].ID
	}
	out := make([]Alert, 0, len(rows))
	stories := map[string]*Story{}
	for _, d := range rows {
		a := AlertOf(d)
		if d.StoryID != "" {
			s, ok := stories[d.StoryID]
			if !ok {
				if got, err := st.Story(ctx, d.StoryID); err == nil {
					j := StoryOf(got, nil)
					s = &j
				}
				stories[d.StoryID] = s
			}
			a.Story = s
		}
		out = append(out, a)
	}
	return out, next, nil
}

// AlertOf converts an outbox row (without its story).
func AlertOf(d store.Delivery) Alert {
	a := Alert{
		ID: d.ID, Target: d.Target, Kind: d.Kind, Status: d.Status, StoryIDs: d.StoryIDs, Rules: d.Rules,
		Terms: d.Terms, Cluster: d.Cluster, ParentID: d.ParentID, Text: d.Text, Attempts: d.Attempts,
		NextAttempt: timePtr(d.NextAttempt), LastError: d.LastError, Created: timePtr(d.Created), Sent: timePtr(d.Sent),
	}
	if a.Kind == "" {
		a.Kind = store.KindAlert
	}
	if a.Rules == nil {
		a.Rules = []string{}
	}
	if a.Terms == nil {
		a.Terms = []string{}
	}
	if d.Status != store.StatusPending {
		a.NextAttempt = nil
	} else {
		a.Waiting = d.Waiting
		if a.Waiting == "" {
			a.Waiting = "due"
		}
	}
	for _, st := range d.Stories {
		a.Stories = append(a.Stories, StoryOf(st, nil))
	}
	return a
}

func (a *API) listAlerts(w http.ResponseWriter, r *http.Request) {
	q, err := ParseAlertQuery(r, a.o.Service.Now())
	if err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	alerts, next, err := Alerts(r.Context(), a.o.Store, q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := AlertList{Alerts: alerts}
	if next > 0 {
		out.NextBefore = &next
	}
	WriteJSON(w, http.StatusOK, out)
}

// RetryResult is the answer of POST /api/v1/alerts/{id}/retry and
// POST /api/v1/alerts/{id}/cancel.
type RetryResult struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// retryAlert sends a failed or pending alert now: a pending one waiting for
// a Retry-After or a backoff is due at once, its target's hold lifted.
func (a *API) retryAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.o.Store.Retry(r.Context(), id); err != nil {
		if Status(err) == http.StatusConflict {
			WriteError(w, http.StatusConflict, "alert "+idString(id)+" is neither failed nor pending: only those can be retried")
			return
		}
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, RetryResult{ID: id, Status: store.StatusPending})
}

// CancelReason is the error a cancelled alert is kept with.
const CancelReason = "cancelled by hand before it was sent"

// cancelAlert gives a pending alert up: it is kept as failed, with
// CancelReason, and can still be retried.
func (a *API) cancelAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := a.o.Store.Cancel(r.Context(), id, CancelReason); err != nil {
		if Status(err) == http.StatusConflict {
			WriteError(w, http.StatusConflict, "alert "+idString(id)+" is not pending: only pending alerts can be cancelled")
			return
		}
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, RetryResult{ID: id, Status: store.StatusFailed})
}

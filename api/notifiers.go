package api

import (
	"net/http"
	"time"

	"github.com/wirewatch/wirewatch/config"
)

// Target is one target's health, as GET /api/v1/notifiers shows it.
type Target struct {
	Target      string     `json:"target"`
	Pending     int        `json:"pending"`
	LastSent    *time.Time `json:"last_sent"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	// HeldUntil is when the target's queue may go on (a receiver asked to
	// wait), with HeldFor the reason; null when it is not held.
	HeldUntil *time.Time `json:"held_until"`
	HeldFor   string     `json:"held_for,omitempty"`
}

// Notifier is a configured notifier with the health of its targets.
type Notifier struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Channel is "none", "optional" or "required": whether its targets
	// name a channel; Example is one, as people write it.
	Channel string   `json:"channel"`
	Example string   `json:"example,omitempty"`
	Targets []Target `json:"targets"`
}

// NotifierList is the answer of GET /api/v1/notifiers.
type NotifierList struct {
	Notifiers []Notifier `json:"notifiers"`
}

func (a *API) listNotifiers(w http.ResponseWriter, r *http.Request) {
	all, err := a.o.Service.Notifiers(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := NotifierList{Notifiers: make([]Notifier, 0, len(all))}
	for _, n := range all {
		j := Notifier{Name: n.Notifier, Type: n.Type, Example: n.Example, Targets: make([]Target, 0, len(n.Targets))}
		switch n.Channel {
		case config.RequiredChannel:
			j.Channel = "required"
		case config.OptionalChannel:
			j.Channel = "optional"
		default:
			j.Channel = "none"
		}
		for _, t := range n.Targets {
			j.Targets = append(j.Targets, Target{Target: t.Target, Pending: t.Pending, LastSent: timePtr(t.LastSent),
				LastError: t.LastError, LastErrorAt: timePtr(t.LastErrorAt), HeldUntil: timePtr(t.Hold.Until), HeldFor: t.Hold.Reason})
		}
		out.Notifiers = append(out.Notifiers, j)
	}
	WriteJSON(w, http.StatusOK, out)
}

// TestRequest is the body of POST /api/v1/notifiers/test.
type TestRequest struct {
	Target string `json:"target"`
}

func (a *API) testNotifier(w http.ResponseWriter, r *http.Request) {
	var in TestRequest
	if !decode(w, r, &in) {
		return
	}
	d, err := a.o.Service.SendTest(r.Context(), in.Target)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusAccepted, AlertOf(d))
}

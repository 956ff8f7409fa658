package web

import (
	"errors"
	"net/http"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// notifierRows is how many recent deliveries the notifiers page lists.
const notifierRows = 10

type notifiersData struct {
	Notifiers []service.NotifierHealth
	// Target is the test form's target as sent, TestError what was wrong
	// with it.
	Target    string
	TestError string
	// Tested is the target a test alert was just queued to.
	Tested string
	// Recent are the newest deliveries to Tested.
	Recent []store.Delivery
}

func (d *dashboard) notifiers(w http.ResponseWriter, r *http.Request) {
	d.renderNotifiers(w, r, http.StatusOK, notifiersData{Tested: r.URL.Query().Get("target")})
}

func (d *dashboard) renderNotifiers(w http.ResponseWriter, r *http.Request, code int, data notifiersData) {
	all, err := d.svc.Notifiers(r.Context())
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data.Notifiers = all
	if data.Tested != "" {
		if data.Recent, err = d.st.Deliveries(r.Context(), store.DeliveryQuery{Target: data.Tested, Limit: notifierRows}); err != nil {
			d.failErr(w, r, err)
			return
		}
	}
	d.render(w, r, code, "notifiers", page{Title: "Notifiers", Nav: "notifiers", Data: data})
}

// testNotifier queues a test alert to the target of the form.
func (d *dashboard) testNotifier(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	target := r.PostFormValue("target")
	sent, err := d.svc.SendTest(r.Context(), target)
	if err != nil {
		var ie *service.InvalidError
		if !errors.As(err, &ie) {
			d.failErr(w, r, err)
			return
		}
		d.renderNotifiers(w, r, http.StatusBadRequest, notifiersData{Target: target, TestError: sentence(ie.Reason)})
		return
	}
	done(w, r, "/notifiers?target="+urlQueryEscape(sent.Target)+"#test-result", "tested")
}

package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/schedule"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// maxFormBody bounds a form post; OPML uploads get api.MaxOPML.
const maxFormBody = 64 << 10

// fetchLogRows is how many fetch log entries a source's page shows.
const fetchLogRows = 50

type sourcesData struct {
	Sources []store.Source
	// Form is the add form as it was sent, shown again with its error:
	// Errs by field ("url", "name"), Err for neither.
	URL, Name string
	Errs      map[string]string
	Err       string
}

type sourceData struct {
	Source   store.Source
	Stories  []story.Story
	Log      []store.FetchLogEntry // newest first
	Interval string
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func (d *dashboard) sources(w http.ResponseWriter, r *http.Request) {
	d.renderSources(w, r, http.StatusOK, sourcesData{})
}

func (d *dashboard) renderSources(w http.ResponseWriter, r *http.Request, code int, data sourcesData) {
	all, err := d.svc.Sources(r.Context())
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	// Failing sources first, then by name as stored (by id).
	failing := make([]store.Source, 0, len(all))
	var healthy []store.Source
	for _, s := range all {
		if s.State.Failures > 0 {
			failing = append(failing, s)
		} else {
			healthy = append(healthy, s)
		}
	}
	data.Sources = append(failing, healthy...)
	d.render(w, r, code, "sources", page{Title: "Sources", Nav: "sources", Data: data})
}

func (d *dashboard) addSource(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	data := sourcesData{URL: r.PostFormValue("url"), Name: r.PostFormValue("name")}
	src, err := d.svc.AddSource(r.Context(), data.URL, data.Name, "dashboard", store.OriginAPI)
	if err != nil {
		code := api.Status(err)
		if code == http.StatusInternalServerError {
			d.failErr(w, r, err)
			return
		}
		var ie *service.InvalidError
		switch {
		case errors.As(err, &ie) && (ie.Field == "url" || ie.Field == "name"):
			data.Errs = map[string]string{ie.Field: sentence(ie.Reason)}
		case errors.As(err, &ie):
			data.Err = sentence(ie.Reason)
		default:
			data.Err = err.Error()
		}
		d.renderSources(w, r, code, data)
		return
	}
	done(w, r, "/sources/"+itoa(src.ID), "added")
}

func (d *dashboard) source(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusNotFound, "No such source.")
		return
	}
	src, err := d.st.Source(r.Context(), id)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	stories, err := d.st.Stories(r.Context(), store.StoryQuery{SourceID: id, Limit: 25})
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	log, err := d.st.FetchLog(r.Context(), id, fetchLogRows)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	data := sourceData{Source: src, Stories: stories, Log: log}
	switch {
	case src.Schedule != "":
		data.Interval = "schedule " + src.Schedule
		if sched, err := schedule.ParseCron(src.Schedule); err == nil {
			data.Interval = "schedule " + sched.Describe()
		}
	case src.Interval > 0:
		data.Interval = "every " + humanDuration(src.Interval)
	default:
		data.Interval = "every " + humanDuration(d.o.FetchInterval) + " (the [fetch] default)"
	}
	d.render(w, r, http.StatusOK, "source", page{Title: src.Name, Nav: "sources", Data: data})
}

// byteSize says how large a body was, in B, KiB or MiB.
func byteSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// took says how long a fetch took: milliseconds below a second, else seconds.
func took(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// back is where an action on a source returns: its page, when the form says
// it came from there, else the list.
func back(r *http.Request, id int64) string {
	if r.PostFormValue("from") == "detail" {
		return "/sources/" + itoa(id)
	}
	return "/sources"
}

func (d *dashboard) checkSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok || r.ParseForm() != nil {
		d.fail(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	if _, err := d.st.Source(r.Context(), id); err != nil {
		d.failErr(w, r, err)
		return
	}
	if err := d.st.FetchSoon(r.Context(), id); err != nil {
		d.failErr(w, r, err)
		return
	}
	done(w, r, back(r, id), "checked")
}

func (d *dashboard) pauseSource(w http.ResponseWriter, r *http.Request) {
	d.setPaused(w, r, func(ctx context.Context, id int64, paused bool) error {
		_, err := d.svc.UpdateSource(ctx, id, service.SourcePatch{Paused: &paused})
		return err
	}, func(id int64) string { return back(r, id) })
}

func (d *dashboard) confirmDeleteSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusNotFound, "No such source.")
		return
	}
	src, err := d.st.Source(r.Context(), id)
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	d.render(w, r, http.StatusOK, "confirm", page{Title: "Remove source " + src.Name, Nav: "sources", Data: confirmData{
		Question: "Remove the source " + src.Name + "?",
		Detail:   "It is no longer fetched; its stories stay until they are pruned. To fetch it again, add its URL again (" + src.URL + ").",
		Action:   "/sources/" + itoa(id) + "/delete", Button: "Remove source", Cancel: "/sources/" + itoa(id)}})
}

func (d *dashboard) deleteSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		d.fail(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	src, err := d.st.Source(r.Context(), id)
	if err == nil {
		err = d.svc.RemoveSource(r.Context(), src.Name)
	}
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	done(w, r, "/sources", "removed")
}

func (d *dashboard) importSources(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, api.MaxOPML+64<<10)
	file, _, err := r.FormFile("opml")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			d.fail(w, r, http.StatusRequestEntityTooLarge, "The OPML file is too large.")
			return
		}
		d.fail(w, r, http.StatusBadRequest, "Choose an OPML file to import.")
		return
	}
	defer file.Close()
	rep, err := api.ImportOPML(r.Context(), d.svc, file, "dashboard")
	if err != nil {
		d.render(w, r, http.StatusBadRequest, "import", page{Title: "Import", Nav: "sources", Error: sentence(err.Error())})
		return
	}
	d.render(w, r, http.StatusOK, "import", page{Title: "Import", Nav: "sources", Data: rep})
}

func (d *dashboard) exportSources(w http.ResponseWriter, r *http.Request) {
	all, err := d.svc.Sources(r.Context())
	if err != nil {
		d.failErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="wirewatch-sources.opml"`)
	if err := api.WriteOPML(w, all); err != nil {
		d.log.Warn("export opml", "err", err)
	}
}

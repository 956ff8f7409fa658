package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
)

// storyPage is how many stories the lookup page lists at once.
const storyPage = 25

type storiesData struct {
	Query     string
	Err       *queryError
	Stories   []api.Story
	Truncated bool
	Next      string
}

func (d *dashboard) stories(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := storiesData{Query: q.Get("q")}
	list, err := api.StoryPage(r.Context(), d.svc, d.st, data.Query, q.Get("before"), storyPage)
	if err != nil {
		var qe *rules.Error
		if errors.As(err, &qe) {
			data.Err = caretOf(data.Query, qe)
			d.render(w, r, http.StatusBadRequest, "stories", page{Title: "Stories", Nav: "stories", Data: data})
			return
		}
		d.failErr(w, r, err)
		return
	}
	data.Stories, data.Truncated = list.Stories, list.Truncated
	if list.NextBefore != nil {
		v := url.Values{"before": {*list.NextBefore}}
		if data.Query != "" {
			v.Set("q", data.Query)
		}
		data.Next = "/stories?" + v.Encode()
	}
	d.render(w, r, http.StatusOK, "stories", page{Title: "Stories", Nav: "stories", Data: data})
}

type storyData struct {
	Ex      service.Explanation
	Matched int
}

func (d *dashboard) story(w http.ResponseWriter, r *http.Request) {
	ex, err := d.svc.Explain(r.Context(), r.PathValue("id"))
	if err != nil {
		if isNotFound(err) {
			d.fail(w, r, http.StatusNotFound, "No stored story has that id (it may have been pruned).")
			return
		}
		d.failErr(w, r, err)
		return
	}
	data := storyData{Ex: ex}
	for _, re := range ex.Rules {
		if re.Matched {
			data.Matched++
		}
	}
	d.render(w, r, http.StatusOK, "story", page{Title: ex.Story.Title, Nav: "stories", Data: data})
}

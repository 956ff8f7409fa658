package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// Source is a source with its health, as the API shows it.
type Source struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	URL          string     `json:"url"`
	Origin       string     `json:"origin"`
	AddedBy      string     `json:"added_by,omitempty"`
	Paused       bool       `json:"paused"`
	Interval     string     `json:"interval,omitempty"`
	Schedule     string     `json:"schedule,omitempty"`
	Backfill     int        `json:"backfill"`
	Created      *time.Time `json:"created"`
	LastFetch    *time.Time `json:"last_fetch"`
	LastSuccess  *time.Time `json:"last_success"`
	LastStatus   int        `json:"last_status"`
	LastError    string     `json:"last_error"`
	Failures     int        `json:"failures"`
	FailingSince *time.Time `json:"failing_since"`
	// NextFetch is when the source is due next (its next slot, or the end
	// of its backoff); null when it is paused or due now.
	NextFetch *time.Time `json:"next_fetch"`
	Stories7d int        `json:"stories_7d"`
}

// sourceOf converts a stored source.
func (a *API) sourceOf(s store.Source) Source { return SourceOf(s) }

// SourceOf converts a stored source.
func SourceOf(s store.Source) Source {
	out := Source{
		ID: s.ID, Name: s.Name, URL: s.URL, Origin: s.Origin, AddedBy: s.AddedBy, Paused: s.Paused,
		Schedule: s.Schedule, Backfill: s.Backfill, Created: timePtr(s.Created),
		LastFetch: timePtr(s.State.LastFetch), LastSuccess: timePtr(s.State.LastSuccess),
		LastStatus: s.State.LastStatus, LastError: s.State.LastError, Failures: s.State.Failures,
		FailingSince: timePtr(s.State.FailingSince), NextFetch: timePtr(s.State.NextFetch), Stories7d: s.Stories7d,
	}
	if s.Interval > 0 {
		out.Interval = s.Interval.String()
	}
	if s.Paused {
		out.NextFetch = nil
	}
	return out
}

// SourceList is the answer of GET /api/v1/sources.
type SourceList struct {
	Sources []Source `json:"sources"`
}

func (a *API) listSources(w http.ResponseWriter, r *http.Request) {
	all, err := a.o.Service.Sources(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := SourceList{Sources: make([]Source, 0, len(all))}
	for _, s := range all {
		out.Sources = append(out.Sources, a.sourceOf(s))
	}
	WriteJSON(w, http.StatusOK, out)
}

func (a *API) getSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	s, err := a.o.Store.Source(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a.sourceOf(s))
}

// NewSource is the body of POST /api/v1/sources.
type NewSource struct {
	URL  string `json:"url"`
	Name string `json:"name"`
}

func (a *API) addSource(w http.ResponseWriter, r *http.Request) {
	var in NewSource
	if !decode(w, r, &in) {
		return
	}
	s, err := a.o.Service.AddSource(r.Context(), in.URL, in.Name, "api", store.OriginAPI)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, a.sourceOf(s))
}

// SourcePatch is the body of PATCH /api/v1/sources/{id}.
type SourcePatch struct {
	Name   *string `json:"name"`
	Paused *bool   `json:"paused"`
}

func (a *API) patchSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in SourcePatch
	if !decode(w, r, &in) {
		return
	}
	s, err := a.o.Service.UpdateSource(r.Context(), id, service.SourcePatch{Name: in.Name, Paused: in.Paused})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, a.sourceOf(s))
}

func (a *API) deleteSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	s, err := a.o.Store.Source(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.o.Service.RemoveSource(r.Context(), s.Name); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// CheckResult is the answer of POST /api/v1/sources/{id}/check.
type CheckResult struct {
	ID     int64 `json:"id"`
	Queued bool  `json:"queued"`
}

func (a *API) checkSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if _, err := a.o.Store.Source(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.o.Store.FetchSoon(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusAccepted, CheckResult{ID: id, Queued: true})
}

func (a *API) importSources(w http.ResponseWriter, r *http.Request) {
	res, err := ImportOPML(r.Context(), a.o.Service, http.MaxBytesReader(w, r.Body, MaxOPML), "api")
	if err != nil {
		WriteJSON(w, http.StatusBadRequest, Error{Error: err.Error(), Field: "opml"})
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

func (a *API) exportSources(w http.ResponseWriter, r *http.Request) {
	all, err := a.o.Service.Sources(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="wirewatch-sources.opml"`)
	if err := WriteOPML(w, all); err != nil {
		a.o.Logger.Warn("export opml", "err", err)
	}
}

// idString formats an id for messages.
func idString(id int64) string { return strconv.FormatInt(id, 10) }

// FetchLogEntry is one fetch attempt of a source.
type FetchLogEntry struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Status      int       `json:"status"`
	NotModified bool      `json:"not_modified"`
	Items       int       `json:"items"`
	Fresh       int       `json:"fresh"`
	Bytes       int64     `json:"bytes"`
	DurationMS  int64     `json:"duration_ms"`
	Error       string    `json:"error"`
}

// FetchLog is the answer of GET /api/v1/sources/{id}/log.
type FetchLog struct {
	SourceID int64           `json:"source_id"`
	Entries  []FetchLogEntry `json:"entries"`
}

// FetchLogEntryOf converts a stored fetch log entry.
func FetchLogEntryOf(e store.FetchLogEntry) FetchLogEntry {
	return FetchLogEntry{
		ID: e.ID, At: e.At.UTC(), Status: e.Status, NotModified: e.NotModified, Items: e.Items,
		Fresh: e.Fresh, Bytes: e.Bytes, DurationMS: e.Duration.Milliseconds(), Error: e.Error,
	}
}

func (a *API) fetchLog(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	limit, ok := limitParam(w, r, store.FetchLogKeep)
	if !ok {
		return
	}
	if _, err := a.o.Store.Source(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	entries, err := a.o.Store.FetchLog(r.Context(), id, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := FetchLog{SourceID: id, Entries: make([]FetchLogEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, FetchLogEntryOf(e))
	}
	WriteJSON(w, http.StatusOK, out)
}

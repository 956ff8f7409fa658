package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

// Options are the API's dependencies.
type Options struct {
	// Service makes and changes rules and sources and looks stories up.
	Service *service.Service
	// Store is read for the delivery log, stories and sources, and for Retry.
	Store store.Store
	// PreviewBudget bounds one rule preview (default DefaultPreviewBudget);
	// a preview that runs out reports truncated.
	PreviewBudget time.Duration
	// Logger records internal errors (never request headers or bodies).
	Logger *slog.Logger
}

// Limits of the API.
const (
	// DefaultPreviewBudget is how long one preview may scan stories: the
	// preview answers as a person types, so it stops early and says so
	// (truncated) rather than keep them waiting (docs/PERFORMANCE.md).
	DefaultPreviewBudget = 50 * time.Millisecond
	// DefaultLimit is the page size of lists when limit is not given.
	DefaultLimit = 50
	// MaxLimit is the largest page size.
	MaxLimit = 500
	// MaxBody is the largest JSON request body.
	MaxBody = 1 << 20
	// MaxOPML is the largest OPML import body.
	MaxOPML = 4 << 20
	// PreviewSample is how many matching stories a preview returns by default.
	PreviewSample = 20
	// MaxPreviewDays is the longest preview window.
	MaxPreviewDays = 366
)

// API is the JSON API's handler.
type API struct {
	o       Options
	preview *service.Service
	mux     *http.ServeMux
}

// New returns the API; mount it at "/api/".
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PreviewBudget <= 0 {
		o.PreviewBudget = DefaultPreviewBudget
	}
	a := &API{o: o, preview: o.Service.WithBudget(o.PreviewBudget), mux: http.NewServeMux()}
	a.routes()
	return a
}

// ServeHTTP serves /api/v1 requests. A path or method no route takes gets
// its 404 or 405 (with Allow) as a JSON error.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r) // sets the path values
		return
	}
	rec := &statusOnly{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if rec.code == http.StatusMethodNotAllowed {
		WriteError(w, rec.code, "method "+r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	WriteError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
}

// statusOnly keeps the status and headers of the mux's own 404 or 405 answer.
type statusOnly struct {
	header http.Header
	code   int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }

func (a *API) routes() {
	m := a.mux
	m.HandleFunc("GET /api/v1/sources", a.listSources)
	m.HandleFunc("POST /api/v1/sources", a.addSource)
	m.HandleFunc("GET /api/v1/sources/{id}", a.getSource)
	m.HandleFunc("PATCH /api/v1/sources/{id}", a.patchSource)
	m.HandleFunc("DELETE /api/v1/sources/{id}", a.deleteSource)
	m.HandleFunc("POST /api/v1/sources/{id}/check", a.checkSource)
	m.HandleFunc("GET /api/v1/sources/{id}/log", a.fetchLog)
	m.HandleFunc("POST /api/v1/sources/import", a.importSources)
	m.HandleFunc("GET /api/v1/sources/export.opml", a.exportSources)

	m.HandleFunc("GET /api/v1/rules", a.listRules)
	m.HandleFunc("POST /api/v1/rules", a.addRule)
	m.HandleFunc("GET /api/v1/rules/{id}", a.getRule)
	m.HandleFunc("PATCH /api/v1/rules/{id}", a.patchRule)
	m.HandleFunc("DELETE /api/v1/rules/{id}", a.deleteRule)
	m.HandleFunc("POST /api/v1/rules/preview", a.previewRule)

	m.HandleFunc("GET /api/v1/alerts", a.listAlerts)
	m.HandleFunc("POST /api/v1/alerts/{id}/retry", a.retryAlert)
	m.HandleFunc("POST /api/v1/alerts/{id}/cancel", a.cancelAlert)

	m.HandleFunc("GET /api/v1/notifiers", a.listNotifiers)
	m.HandleFunc("POST /api/v1/notifiers/test", a.testNotifier)

	m.HandleFunc("GET /api/v1/stories", a.listStories)
	m.HandleFunc("GET /api/v1/stories/{id}", a.getStory)
	m.HandleFunc("GET /api/v1/stories/{id}/explain", a.explainStory)
}

// Error is the JSON body of every error answer.
type Error struct {
	// Error says what went wrong.
	Error string `json:"error"`
	// Column is where a query is at fault, 1-based, in characters.
	Column int `json:"column,omitempty"`
	// Field names the input at fault ("query", "notify", "url", …).
	Field string `json:"field,omitempty"`
}

// WriteJSON writes v as JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// WriteError writes an Error with the status code.
func WriteError(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, Error{Error: msg})
}

// Status is the HTTP status an error of the service or the store answers
// with: 400 for bad input, 404 for what is not there, 409 for a change the
// thing's state or origin refuses, else 500.
func Status(err error) int {
	switch {
	case errors.Is(err, store.ErrExists):
		return http.StatusConflict
	case errors.Is(err, service.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, service.ErrReadOnly), errors.Is(err, store.ErrConflict), errors.Is(err, service.ErrLimit):
		return http.StatusConflict
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers with err, with the column of a query error; internal errors
// are logged and answered without detail.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := Status(err)
	if code == http.StatusInternalServerError {
		a.o.Logger.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
		WriteError(w, code, "internal error; see the server log")
		return
	}
	WriteJSON(w, code, ErrorOf(err))
}

// ErrorOf is the JSON error for err: its message, and the field and column
// of bad input.
func ErrorOf(err error) Error {
	e := Error{Error: err.Error()}
	var ie *service.InvalidError
	if errors.As(err, &ie) {
		e.Field = ie.Field
	}
	var qe *rules.Error
	if errors.As(err, &qe) {
		e.Column = qe.Column
		e.Field = "query"
	}
	return e
}

// decode reads a JSON body into v, refusing unknown fields and trailing data.
// The body must be declared as JSON: a form or text/plain POST, which a page
// of another site can send without asking, is refused with 415.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		WriteError(w, http.StatusUnsupportedMediaType, "the request body must be JSON, sent with Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBody))
			return false
		}
		WriteError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		WriteError(w, http.StatusBadRequest, "invalid JSON body: more than one value")
		return false
	}
	return true
}

// pathID reads the {id} path value as a positive int64.
func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("id %q: want a positive number", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// limitParam reads ?limit= (default DefaultLimit, at most max).
func limitParam(w http.ResponseWriter, r *http.Request, max int) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return min(DefaultLimit, max), true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to %d", s, max))
		return 0, false
	}
	return n, true
}

// ParseSince reads a lower time bound: an RFC 3339 time, a date
// (2026-11-28, UTC) or a Go duration back from now ("24h").
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("since %q: want an RFC 3339 time, a date (2026-11-28) or a duration (24h)", s)
}

// timePtr is t for JSON, or nil (null) when t is zero.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates that are whole pages (each with the layout).
var pageNames = []string{"overview", "sources", "source", "import", "rules", "rule", "alerts", "stories", "story", "login", "error",
	"notifiers", "confirm"}

// dashboard serves the pages, the static assets and the API.
type dashboard struct {
	o       Options
	st      store.Store
	svc     *service.Service
	preview *service.Service
	api     *api.API
	auth    *auth
	pages   map[string]*template.Template
	frags   *template.Template
	log     *slog.Logger
}

func newDashboard(o Options, st store.Store) http.Handler {
	if o.FetchInterval <= 0 {
		o.FetchInterval = 5 * time.Minute
	}
	if o.PreviewBudget <= 0 {
		o.PreviewBudget = api.DefaultPreviewBudget
	}
	d := &dashboard{
		o: o, st: st, svc: o.Service, preview: o.Service.WithBudget(o.PreviewBudget),
		api:  api.New(api.Options{Service: o.Service, Store: st, PreviewBudget: o.PreviewBudget, Logger: o.Logger}),
		auth: newAuth(o.Tokens, st, o.Logger), log: o.Logger,
	}
	d.parseTemplates()

	static, _ := fs.Sub(staticFS, "static")
	open := http.NewServeMux()
	open.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	open.HandleFunc("GET /login", d.loginForm)
	open.HandleFunc("POST /login", d.login)
	open.HandleFunc("POST /logout", d.logout)

	m := http.NewServeMux()
	m.Handle("/api/", d.api)
	m.HandleFunc("GET /{$}", d.overview)
	m.HandleFunc("GET /sources", d.sources)
	m.HandleFunc("POST /sources", d.addSource)
	m.HandleFunc("GET /sources/export.opml", d.exportSources)
	m.HandleFunc("POST /sources/import", d.importSources)
	m.HandleFunc("GET /sources/{id}", d.source)
	m.HandleFunc("POST /sources/{id}/check", d.checkSource)
	m.HandleFunc("POST /sources/{id}/pause", d.pauseSource)
	m.HandleFunc("GET /sources/{id}/delete", d.confirmDeleteSource)
	m.HandleFunc("POST /sources/{id}/delete", d.deleteSource)
	m.HandleFunc("GET /rules", d.rules)
	m.HandleFunc("GET /rules/new", d.newRule)
	m.HandleFunc("POST /rules", d.saveRule)
	m.HandleFunc("POST /rules/preview", d.previewRule)
	m.HandleFunc("GET /rules/{id}", d.editRule)
	m.HandleFunc("POST /rules/{id}", d.saveRule)
	m.HandleFunc("POST /rules/{id}/pause", d.pauseRule)
	m.HandleFunc("GET /rules/{id}/delete", d.confirmDeleteRule)
	m.HandleFunc("POST /rules/{id}/delete", d.deleteRule)
	m.HandleFunc("GET /alerts", d.alerts)
	m.HandleFunc("POST /alerts/{id}/retry", d.retryAlert)
	m.HandleFunc("POST /alerts/{id}/cancel", d.cancelAlert)
	m.HandleFunc("GET /notifiers", d.notifiers)
	m.HandleFunc("POST /notifiers/test", d.testNotifier)
	m.HandleFunc("GET /stories", d.stories)
	m.HandleFunc("GET /stories/{id}", d.story)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
	open.Handle("/", d.auth.require(m))

	return newHostCheck(o.Listen, o.AllowedHosts).wrap(securityHeaders(crossOrigin(open)))
}

// cacheStatic lets browsers keep the assets for an hour.
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

func (d *dashboard) parseTemplates() {
	funcs := template.FuncMap{
		"ago":       func(t any) string { return ago(asTime(t), d.svc.Now()) },
		"stamp":     func(t any) string { return stamp(asTime(t)) },
		"until":     func(t any) string { return until(asTime(t), d.svc.Now()) },
		"mode":      ruleMode,
		"join":      strings.Join,
		"mark":      highlightText,
		"statusTip": statusTip,
		"add":       func(a, b int) int { return a + b },
		"size":      byteSize,
		"took":      took,
		"alertDef":  func() string { return store.AlertDefinition },
		// The delivery kinds, as the store names them.
		"kindAlert":    func() string { return store.KindAlert },
		"kindFollowUp": func() string { return store.KindFollowUp },
	}
	base := template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	d.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t := template.Must(base.Clone())
		d.pages[name] = template.Must(t.ParseFS(templateFS, "templates/"+name+".html"))
	}
	d.frags = template.Must(template.New("frags").Funcs(funcs).ParseFS(templateFS, "templates/parts.html"))
}

// page is what the layout needs, around a page's own data.
type page struct {
	Title string
	Nav   string
	// Auth is true when tokens are configured and the page is not the
	// login form (the layout shows "log out").
	Auth bool
	// LoggedOut is true on the login form: the layout shows no navigation.
	LoggedOut bool
	// Notice is a message about what the last action did.
	Notice string
	// Error is a message about what went wrong.
	Error string
	Data  any
}

// render writes a page; the template runs into a buffer first, so that a
// failing template gives a clean 500 and not half a page.
func (d *dashboard) render(w http.ResponseWriter, r *http.Request, code int, name string, p page) {
	p.LoggedOut = name == "login"
	p.Auth = d.auth.enabled() && !p.LoggedOut
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		d.log.Error("render page", "page", name, "err", err)
		http.Error(w, "500 internal error; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// fragment writes a template of parts.html alone (htmx swaps it in).
func (d *dashboard) fragment(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := d.frags.ExecuteTemplate(&buf, name, data); err != nil {
		d.log.Error("render fragment", "fragment", name, "err", err)
		http.Error(w, "500 internal error; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// fail shows an error page.
func (d *dashboard) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	d.render(w, r, code, "error", page{Title: http.StatusText(code), Error: msg})
}

// failErr shows an error page for an error of the service or the store.
func (d *dashboard) failErr(w http.ResponseWriter, r *http.Request, err error) {
	code := api.Status(err)
	if code == http.StatusInternalServerError {
		d.log.Error("dashboard", "method", r.Method, "path", r.URL.Path, "err", err)
		d.fail(w, r, code, "Something went wrong on the server; the log says what.")
		return
	}
	d.fail(w, r, code, err.Error())
}

// notices are the messages a redirect after an action may show, by key, so
// that no text of the URL is ever shown.
var notices = map[string]string{
	"added":     "Source added; its first fetch is queued.",
	"checked":   "Fetch queued: the source will be fetched in a moment.",
	"paused":    "Paused.",
	"resumed":   "Resumed.",
	"removed":   "Removed.",
	"saved":     "Rule saved. It applies to the next story.",
	"deleted":   "Rule deleted.",
	"tested":    "Test alert queued: it goes out within a few seconds; this page shows how it went.",
	"retried":   "Alert queued for another attempt.",
	"cancelled": "Alert cancelled; it is kept as failed and can still be retried.",
	"loggedin":  "Logged in.",
}

// done redirects after a successful action, with a notice key; a fragment
// of path stays at the end ("/rules?done=saved#rule-3").
func done(w http.ResponseWriter, r *http.Request, path, notice string) {
	http.Redirect(w, r, doneURL(path, notice), http.StatusSeeOther)
}

// doneURL puts done=notice into the query of path, before any fragment.
func doneURL(path, notice string) string {
	path, frag, hasFrag := strings.Cut(path, "#")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	out := path + sep + "done=" + notice
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// pathID reads the {id} path value.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// ago says how long ago t was, briefly.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + short(-d)
	}
	if d < time.Minute {
		return "just now"
	}
	return short(d) + " ago"
}

// until says how long until t, briefly.
func until(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(now)
	if d <= 0 {
		return "now"
	}
	return "in " + short(d)
}

func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// humanDuration writes a duration as people do: "90s", "5m", "1h30m", "2d".
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 && d%(time.Hour) == 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d >= time.Second || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", d/time.Second)
	}
	return b.String()
}

// asTime reads a time.Time or a *time.Time (nil: zero).
func asTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	}
	return time.Time{}
}

// stamp is a time as UTC, for title attributes and <time datetime>.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// statusTip explains a delivery status in words.
func statusTip(s string) string {
	switch s {
	case store.StatusSent:
		return "delivered to the target"
	case store.StatusPending:
		return "waiting to be sent (or to be retried)"
	case store.StatusFailed:
		return "gave up after its attempts; retry puts it back"
	case store.StatusDuplicate:
		return "the target already had this story"
	case store.StatusFolded:
		return "a later copy, folded into its cluster's first alert"
	case store.StatusSummarised:
		return "held by flood control and sent inside a summary"
	}
	return s
}

// isNotFound reports a missing row.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

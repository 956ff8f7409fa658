package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/bot"
	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/web"
)

const token = "s3cret-token-for-tests"

func TestTokensGuardPagesAndAPI(t *testing.T) {
	e := newEnv(t, token, "second-token")
	e.seed()

	for _, h := range [][]string{nil, {"Authorization: Bearer wrong"}, {"Authorization: Basic " + token}, {"Authorization: Bearer "}} {
		resp, body := e.request("GET", "/api/v1/rules", "", h...)
		var apiErr api.Error
		if resp.StatusCode != 401 || json.Unmarshal([]byte(body), &apiErr) != nil || apiErr.Error == "" {
			t.Fatalf("headers %v: %d %s", h, resp.StatusCode, body)
		}
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("no WWW-Authenticate: %v", resp.Header)
		}
		if strings.Contains(body, token) {
			t.Fatal("the answer shows a token")
		}
	}
	for _, tok := range []string{token, "second-token"} {
		if resp, body := e.request("GET", "/api/v1/rules", "", "Authorization: Bearer "+tok); resp.StatusCode != 200 {
			t.Fatalf("good token: %d %s", resp.StatusCode, body)
		}
	}
	// A page without a token goes to the login form; with one it is served.
	resp, _ := e.request("GET", "/rules?x=1", "")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login?next=%2Frules%3Fx%3D1" {
		t.Fatalf("page without token: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.request("GET", "/rules", "", "Authorization: Bearer "+token); resp.StatusCode != 200 {
		t.Fatalf("page with token: %d", resp.StatusCode)
	}
	if resp, _ := e.form("/rules/preview", url.Values{"query": {"nvidia"}}); resp.StatusCode != 401 {
		t.Fatalf("POST without token: %d", resp.StatusCode)
	}
	// Health, static assets and the chat endpoints need no token.
	for _, p := range []string{"/healthz", "/static/htmx.min.js", "/static/style.css", "/login"} {
		if resp, _ := e.request("GET", p, ""); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.request("POST", "/slack/commands", "x=1"); resp.StatusCode != http.StatusTeapot {
		t.Fatalf("slack route: %d", resp.StatusCode)
	}

	// The login form: a bad token is refused, a good one gives a session cookie.
	resp, body := e.form("/login", url.Values{"token": {"wrong"}, "next": {"/alerts"}})
	if resp.StatusCode != 401 || !strings.Contains(body, "not valid") || len(resp.Cookies()) != 0 {
		t.Fatalf("bad login: %d", resp.StatusCode)
	}
	resp, _ = e.form("/login", url.Values{"token": {token}, "next": {"https://evil.example/"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("login with a foreign next: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = e.form("/login", url.Values{"token": {token}, "next": {"/alerts"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts" || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d %q %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	c := resp.Cookies()[0]
	if c.Name != web.SessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Value == token || c.Path != "/" {
		t.Fatalf("cookie %+v", c)
	}
	cookie := "Cookie: " + c.Name + "=" + c.Value
	if resp, _ := e.request("GET", "/alerts", "", cookie); resp.StatusCode != 200 {
		t.Fatalf("page with session: %d", resp.StatusCode)
	}
	if resp, _ := e.request("GET", "/api/v1/alerts", "", cookie); resp.StatusCode != 200 {
		t.Fatalf("API with session: %d", resp.StatusCode)
	}
	if resp, _ := e.request("GET", "/alerts", "", "Cookie: "+c.Name+"=forged"); resp.StatusCode != 303 {
		t.Fatalf("forged session: %d", resp.StatusCode)
	}
	// Sessions live in the store: a restarted server, or another replica on
	// the same store, knows them.
	restarted := newEnvWith(t, func(o *web.Options) { o.Tokens = []string{token}; o.Store = e.st; o.Service = e.svc })
	if resp, _ := restarted.request("GET", "/alerts", "", cookie); resp.StatusCode != 200 {
		t.Fatalf("page with a session after a restart: %d", resp.StatusCode)
	}
	// Log out ends the session.
	if resp, _ := e.form("/logout", nil, cookie); resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := e.request("GET", "/alerts", "", cookie); resp.StatusCode != 303 {
		t.Fatalf("page after logout: %d", resp.StatusCode)
	}
}

func TestWithoutTokensLoginIsNotNeeded(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.request("GET", "/", ""); resp.StatusCode != 200 {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	if resp, _ := e.request("GET", "/login", ""); resp.StatusCode != 303 {
		t.Fatalf("login page without tokens: %d", resp.StatusCode)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	e := newEnv(t)
	e.seed()
	id := e.failedAlert()
	body := `{"query": "walrus", "notify": ["console"]}`
	for _, h := range [][]string{
		{"Sec-Fetch-Site: cross-site"},
		{"Sec-Fetch-Site: same-site"},
		{"Origin: https://evil.example"},
	} {
		resp, out := e.request("POST", "/api/v1/rules", body, h...)
		if resp.StatusCode != 403 || !strings.Contains(out, "cross-origin") {
			t.Fatalf("API POST with %v: %d %s", h, resp.StatusCode, out)
		}
		resp, _ = e.request("POST", fmt.Sprintf("/alerts/%d/retry", id), "", h...)
		if resp.StatusCode != 403 {
			t.Fatalf("page POST with %v: %d", h, resp.StatusCode)
		}
		resp, _ = e.request("POST", "/login", "token=x", append(h, "Content-Type: application/x-www-form-urlencoded")...)
		if resp.StatusCode != 403 {
			t.Fatalf("login POST with %v: %d", h, resp.StatusCode)
		}
	}
	if ds, _ := e.request("GET", "/api/v1/alerts?status=failed", ""); ds.StatusCode != 200 {
		t.Fatal(ds.StatusCode)
	}
	if e.failedAlert() != id {
		t.Fatal("a refused retry changed the alert")
	}
	// The same requests from the same origin, and from clients that are not
	// browsers (no Sec-Fetch-Site, no Origin), go through.
	if resp, out := e.request("POST", "/api/v1/rules", body, "Sec-Fetch-Site: same-origin"); resp.StatusCode != 201 {
		t.Fatalf("same-origin: %d %s", resp.StatusCode, out)
	}
	if resp, out := e.request("POST", "/api/v1/rules", `{"query": "seal", "notify": ["console"]}`, "Origin: "+e.srv.URL); resp.StatusCode != 201 {
		t.Fatalf("same Origin: %d %s", resp.StatusCode, out)
	}
	if resp, out := e.request("POST", "/api/v1/rules", `{"query": "otter", "notify": ["console"]}`); resp.StatusCode != 201 {
		t.Fatalf("curl-like: %d %s", resp.StatusCode, out)
	}
	// GETs are not state-changing: cross-site GET of a page is answered.
	if resp, _ := e.request("GET", "/rules", "", "Sec-Fetch-Site: cross-site"); resp.StatusCode != 200 {
		t.Fatalf("cross-site GET: %d", resp.StatusCode)
	}
}

func TestHostHeaderIsChecked(t *testing.T) {
	e := newEnv(t)
	for _, host := range []string{"evil.example", "evil.example:80", "127.0.0.2:8080", "localhost.evil.example"} {
		for _, p := range []string{"/", "/api/v1/rules", "/static/style.css", "/login"} {
			if resp, _ := e.request("GET", p, "", "Host: "+host); resp.StatusCode != http.StatusMisdirectedRequest {
				t.Fatalf("Host %s %s: %d", host, p, resp.StatusCode)
			}
		}
	}
	for _, host := range []string{"localhost:8080", "127.0.0.1", "[::1]:9000", "LOCALHOST"} {
		if resp, _ := e.request("GET", "/api/v1/rules", "", "Host: "+host); resp.StatusCode != 200 {
			t.Fatalf("Host %s: %d", host, resp.StatusCode)
		}
	}
	// /healthz stays as it is: any Host.
	if resp, _ := e.request("GET", "/healthz", "", "Host: evil.example"); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

func TestAllowedHosts(t *testing.T) {
	e := newEnvWith(t, func(o *web.Options) {
		o.Listen, o.Tokens, o.AllowedHosts = "0.0.0.0:8080", []string{token}, []string{"news.example.org", "proxy.example:8443"}
	})
	auth := "Authorization: Bearer " + token
	for host, want := range map[string]int{"news.example.org": 200, "NEWS.example.org:443": 200, "proxy.example": 200,
		"localhost": 200, "0.0.0.0": 421, "evil.example": 421} {
		if resp, _ := e.request("GET", "/api/v1/rules", "", "Host: "+host, auth); resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	any := newEnvWith(t, func(o *web.Options) { o.AllowedHosts = []string{"*"} })
	if resp, _ := any.request("GET", "/api/v1/rules", "", "Host: whatever.example"); resp.StatusCode != 200 {
		t.Fatalf(`"*": %d`, resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/", "/api/v1/rules", "/static/htmx.min.js"} {
		resp, _ := e.request("GET", p, "")
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Fatalf("%s: CSP %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("%s: headers %v", p, resp.Header)
		}
	}
}

// The pages carry no inline script, no inline style and no inline event
// handler, which the Content-Security-Policy would block.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t)
	e.seed()
	for _, p := range pagePaths(t, e) {
		resp, body := e.request("GET", p, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", p, resp.StatusCode, body)
		}
		if loc := inline.FindStringIndex(body); loc != nil {
			t.Fatalf("%s: inline script, style or handler: …%s…", p, body[max(0, loc[0]-40):min(len(body), loc[1]+40)])
		}
		for _, want := range []string{`<script src="/static/htmx.min.js" defer></script>`, `<html lang="en">`, `<main id="main">`} {
			if !strings.Contains(body, want) {
				t.Fatalf("%s lacks %q", p, want)
			}
		}
	}
}

// inline finds an inline script, an inline style, an inline event handler
// (hx-on included) or a javascript: URL in a tag.
var inline = regexp.MustCompile(`(?i)<script>|<style|<[a-z][^>]*\s(on[a-z]+|style|hx-on[^=\s]*)=|(href|src|action)="javascript:`)

// pagePaths lists a URL of every page.
func pagePaths(t *testing.T, e *env) []string {
	t.Helper()
	src, _ := e.st.Sources(t.Context())
	rules, _ := e.st.Rules(t.Context())
	return []string{"/", "/sources", fmt.Sprintf("/sources/%d", src[0].ID), "/rules", "/rules/new",
		fmt.Sprintf("/rules/%d", rules[0].ID), "/alerts", "/alerts?status=failed", "/stories", "/stories?q=walrus",
		"/stories/evil", "/stories/s01", "/rules/new?q=" + url.QueryEscape(`nvidia "china`)}
}

// A story title written as HTML is shown as text on every page that shows it.
func TestHostileTitleRendersAsText(t *testing.T) {
	e := newEnv(t)
	e.seed()
	escaped := `&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`
	check := func(where, body string) {
		t.Helper()
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "<b>bold") {
			t.Fatalf("%s: the title is not escaped", where)
		}
		if !strings.Contains(body, "alert(&#34;pwned&#34;)") {
			t.Fatalf("%s: the title is missing", where)
		}
	}
	for _, p := range []string{"/", "/alerts", "/stories", "/stories?q=walrus", "/stories/evil", "/sources/1"} {
		resp, body := e.request("GET", p, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		check(p, body)
		if p == "/stories/evil" && !strings.Contains(body, escaped) {
			t.Fatalf("story page: want %s", escaped)
		}
	}
	resp, body := e.form("/rules/preview", url.Values{"query": {"walrus"}})
	if resp.StatusCode != 200 {
		t.Fatalf("preview: %d", resp.StatusCode)
	}
	check("preview", body)
	if !strings.Contains(body, "<mark>Walrus</mark>") {
		t.Fatalf("preview does not highlight: %s", body)
	}
	// A javascript: link of a story is not made a link.
	if strings.Contains(body, `href="javascript:`) {
		t.Fatal("javascript: URL as a link")
	}
	// The JSON API returns the title as data; encoding/json escapes < and >.
	_, js := e.request("GET", "/api/v1/stories/evil", "")
	var s api.Story
	if err := json.Unmarshal([]byte(js), &s); err != nil || s.Title != hostile || strings.Contains(js, "<script>") {
		t.Fatalf("API story %q: %v (%s)", s.Title, err, js)
	}
}

func TestPreviewFragment(t *testing.T) {
	e := newEnv(t)
	e.seed()
	resp, body := e.form("/rules/preview", url.Values{"query": {`nvidia AND (china OR beijing) -"stock price"`}})
	if resp.StatusCode != 200 || !strings.Contains(body, `<strong id="preview-total">16</strong>`) {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "<mark>Nvidia</mark>") || !strings.Contains(body, "<svg") || !strings.Contains(body, `id="preview-alerts"`) {
		t.Fatalf("preview parts missing:\n%s", body)
	}
	resp, body = e.form("/rules/preview", url.Values{"query": {`nvidia "china`}})
	if resp.StatusCode != 200 || !strings.Contains(body, "column 8") ||
		!strings.Contains(body, `<code id="caret">       ^</code>`) || !strings.Contains(body, `<code id="caret-line">nvidia &#34;china</code>`) {
		t.Fatalf("error preview: %d\n%s", resp.StatusCode, body)
	}
}

func TestPageActions(t *testing.T) {
	e := newEnv(t)
	e.seed()
	ctx := t.Context()

	// Add a source through the form.
	resp, _ := e.form("/sources", url.Values{"url": {e.feeds.URL + "/feed.xml"}})
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/sources/") {
		t.Fatalf("add source: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := e.request("GET", resp.Header.Get("Location"), "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Seal News") || !strings.Contains(body, "Source added") {
		t.Fatalf("source page: %d", resp.StatusCode)
	}
	resp, body = e.form("/sources", url.Values{"url": {"ftp://nope"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="url-error"`) || !strings.Contains(body, "ftp://nope") ||
		!strings.Contains(body, `aria-invalid="true" autofocus`) {
		t.Fatalf("bad source: %d\n%s", resp.StatusCode, body)
	}
	// A feed that is not there says so in words, next to the field.
	resp, body = e.form("/sources", url.Values{"url": {e.feeds.URL + "/missing.xml"}})
	if resp.StatusCode != 400 || !strings.Contains(body, "the server has no page at that address (HTTP 404 Not Found)") ||
		strings.Contains(body, "status 404") {
		t.Fatalf("missing feed: %d\n%s", resp.StatusCode, body)
	}

	// Check now and pause.
	src, _ := e.st.Sources(ctx)
	if resp, _ := e.form(fmt.Sprintf("/sources/%d/check", src[0].ID), nil); resp.StatusCode != 303 {
		t.Fatalf("check: %d", resp.StatusCode)
	}
	if got, err := e.st.Source(ctx, src[0].ID); err != nil || !got.State.NextFetch.IsZero() {
		t.Fatalf("check now did not make the source due now: %+v, %v", got.State, err)
	}
	if resp, _ := e.form(fmt.Sprintf("/sources/%d/pause", src[0].ID), url.Values{"paused": {"true"}}); resp.StatusCode != 303 {
		t.Fatalf("pause: %d", resp.StatusCode)
	}
	if s, _ := e.st.Source(ctx, src[0].ID); !s.Paused {
		t.Fatal("not paused")
	}

	// Save a rule; a bad one comes back with the caret.
	resp, body = e.form("/rules", url.Values{"query": {`walrus "colony`}, "notify": {"console"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="caret"`) {
		t.Fatalf("bad rule: %d", resp.StatusCode)
	}
	// A target the configuration does not allow: the reason next to the
	// targets, in words.
	resp, body = e.form("/rules", url.Values{"query": {"walrus"}, "notify": {"team-slack"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="notify-error"`) ||
		!strings.Contains(body, `needs a channel: write &#34;team-slack:#channel&#34;`) {
		t.Fatalf("bad target: %d\n%s", resp.StatusCode, body)
	}
	// Check boxes and typed targets are one list.
	resp, _ = e.form("/rules", url.Values{"name": {"walruses"}, "query": {"walrus colony"}, "notify": {"console", "team-slack:#ops"}, "digest": {""}})
	if resp.StatusCode != 303 {
		t.Fatalf("save rule: %d", resp.StatusCode)
	}
	saved, err := e.svc.FindRule(ctx, "walruses")
	if err != nil {
		t.Fatal(err)
	}
	if loc, want := resp.Header.Get("Location"), fmt.Sprintf("/rules?rule=%d&done=saved#rule-%d", saved.ID, saved.ID); loc != want {
		t.Fatalf("after saving: %q, want %q", loc, want)
	}
	_, body = e.request("GET", fmt.Sprintf("/rules?rule=%d&done=saved", saved.ID), "")
	if !strings.Contains(body, ">walruses</a>") || !strings.Contains(body, "console, team-slack:#ops") || !strings.Contains(body, `id="saved-badge"`) {
		t.Fatal("saved rule not listed, or not marked")
	}
	// The same name again: said next to the name, once.
	resp, body = e.form("/rules", url.Values{"name": {"walruses"}, "query": {"walrus"}, "notify": {"console"}})
	if resp.StatusCode != 409 || !strings.Contains(body, `id="name-error"`) || strings.Contains(body, "add rule") ||
		!strings.Contains(body, "A rule named &#34;walruses&#34; already exists") {
		t.Fatalf("taken name: %d\n%s", resp.StatusCode, body)
	}
	// Delete asks first.
	resp, body = e.request("GET", fmt.Sprintf("/rules/%d/delete", saved.ID), "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Delete the rule walruses?") || !strings.Contains(body, `id="confirm-button"`) {
		t.Fatalf("delete confirmation: %d", resp.StatusCode)
	}
	rules, _ := e.st.Rules(ctx)
	cfg := rules[0]
	resp, body = e.form(fmt.Sprintf("/rules/%d", cfg.ID), url.Values{"query": {"x"}, "notify": {"console"}})
	if resp.StatusCode != 409 || !strings.Contains(body, "configuration file") {
		t.Fatalf("edit config rule: %d", resp.StatusCode)
	}

	// Retry a failed alert.
	id := e.failedAlert()
	_, body = e.request("GET", "/alerts?status=failed", "")
	if !strings.Contains(body, fmt.Sprintf(`action="/alerts/%d/retry"`, id)) || !strings.Contains(body, "status 500") {
		t.Fatal("failed alert without retry button or error")
	}
	if resp, _ := e.form(fmt.Sprintf("/alerts/%d/retry", id), nil); resp.StatusCode != 303 {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	// Pending now: it can be sent now or cancelled from the delivery log
	// (issue 12, item 3); a cancelled one cannot be cancelled again.
	_, body = e.request("GET", "/alerts?status=pending", "")
	if !strings.Contains(body, fmt.Sprintf(`action="/alerts/%d/retry"`, id)) || !strings.Contains(body, fmt.Sprintf(`action="/alerts/%d/cancel"`, id)) {
		t.Fatal("pending alert without send-now and cancel buttons")
	}
	// Pending rows say when they go.
	if !strings.Contains(body, `<span class="waiting">next attempt`) {
		t.Fatal("pending alerts do not say when they are next tried")
	}
	if resp, _ := e.form(fmt.Sprintf("/alerts/%d/retry", id), nil); resp.StatusCode != 303 {
		t.Fatalf("send a pending alert now: %d", resp.StatusCode)
	}
	if resp, _ := e.form(fmt.Sprintf("/alerts/%d/cancel", id), nil); resp.StatusCode != 303 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if e.failedAlert() != id {
		t.Fatal("the cancelled alert is not failed")
	}
	if resp, _ := e.form(fmt.Sprintf("/alerts/%d/cancel", id), nil); resp.StatusCode != 409 {
		t.Fatalf("cancel again: %d", resp.StatusCode)
	}
	// A bad since keeps the page, with the reason by the field.
	resp, body = e.request("GET", "/alerts?since=yesterdayish", "")
	if resp.StatusCode != 400 || !strings.Contains(body, `id="filter-error"`) || !strings.Contains(body, `<table class="alerts">`) {
		t.Fatalf("bad since: %d", resp.StatusCode)
	}
}

// TestNotifiersPage: the configured notifiers with their targets' health,
// and a test alert queued as a health message, not deduplicated.
func TestNotifiersPage(t *testing.T) {
	e := newEnv(t)
	e.seed()
	ctx := t.Context()
	resp, body := e.request("GET", "/notifiers", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="n-team-slack"`) || !strings.Contains(body, `<a href="/alerts?target=console">console</a>`) {
		t.Fatalf("notifiers page: %d\n%s", resp.StatusCode, body)
	}
	for range 2 {
		resp, _ = e.form("/notifiers/test", url.Values{"target": {"team-slack:#ops"}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/notifiers?target=team-slack%3A%23ops&done=tested#test-result" {
			t.Fatalf("test alert: %d %q", resp.StatusCode, loc)
		}
	}
	ds, err := e.st.Deliveries(ctx, store.DeliveryQuery{Target: "team-slack:#ops"})
	if err != nil || len(ds) != 2 || ds[0].Kind != store.KindHealth || ds[0].Status != store.StatusPending || ds[0].Text != service.TestAlertText {
		t.Fatalf("test alerts: %+v, %v", ds, err)
	}
	_, body = e.request("GET", "/notifiers?target=team-slack%3A%23ops&done=tested", "")
	if !strings.Contains(body, `id="test-status"`) || !strings.Contains(body, "Test alert queued") {
		t.Fatal("the test alert's state is not shown")
	}
	resp, body = e.form("/notifiers/test", url.Values{"target": {"team-slak:#ops"}})
	if resp.StatusCode != 400 || !strings.Contains(body, `id="test-error"`) || !strings.Contains(body, "did you mean &#34;team-slack&#34;?</p>") {
		t.Fatalf("bad test target: %d\n%s", resp.StatusCode, body)
	}
}

// TestFirstRun: an empty store says how to start, not that all is well.
func TestFirstRun(t *testing.T) {
	e := newEnv(t)
	_, body := e.request("GET", "/", "")
	if !strings.Contains(body, `id="first-run"`) || strings.Contains(body, "Every source fetched fine") ||
		!strings.Contains(body, "[[notifiers]]") {
		t.Fatalf("first run:\n%s", body)
	}
}

func TestDoneKeepsTheFragmentLast(t *testing.T) {
	e := newEnv(t)
	e.seed()
	resp, _ := e.form("/rules", url.Values{"query": {"seal"}, "notify": {"console"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.Contains(loc, "done=saved#rule-") || strings.Contains(loc, "#rule-") && strings.Index(loc, "?") > strings.Index(loc, "#") {
		t.Fatalf("redirect %q", loc)
	}
}

func TestOverviewShowsFailingSourcesFirstAndOutbox(t *testing.T) {
	e := newEnv(t)
	e.seed()
	_, body := e.request("GET", "/", "")
	failing := strings.Index(body, `id="failing-h"`)
	flaky := strings.Index(body, ">Flaky</a>")
	if failing < 0 || flaky < failing || !strings.Contains(body, "status 503") {
		t.Fatal("failing sources not shown")
	}
	if !strings.Contains(body, `<span class="big" id="outbox-depth">`) || !strings.Contains(body, "<svg") {
		t.Fatal("outbox or chart missing")
	}
	if !strings.Contains(body, "digest: <a") || !strings.Contains(body, "fetch: <a") {
		t.Fatal("next runs missing")
	}
}

func TestNotFoundPages(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/nope", "/sources/999", "/rules/999", "/stories/none", "/sources/abc"} {
		if resp, _ := e.request("GET", p, ""); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestStoryPageSaysWhereItWent: the "why / why not" page names the
// deliveries of a matched story and what each rule's match became.
func TestStoryPageSaysWhereItWent(t *testing.T) {
	e := newEnv(t)
	e.seed()
	_, body := e.request("GET", "/stories/s01", "")
	for _, want := range []string{`id="story-deliveries"`, `<ul class="outcome"><li>An alert `, " console.</li>", `id="cluster-h"`} {
		if !strings.Contains(body, want) {
			t.Errorf("story page lacks %q", want)
		}
	}
}

// TestImportPage: OPML entries are imported without a fetch (a feed that is
// not there yet is added), and a file that is not OPML is said so in words.
func TestImportPage(t *testing.T) {
	e := newEnv(t)
	upload := func(doc string) (*http.Response, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("opml", "feeds.opml")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(fw, doc)
		mw.Close()
		return e.request("POST", "/sources/import", buf.String(), "Content-Type: "+mw.FormDataContentType(), "Sec-Fetch-Site: same-origin")
	}
	resp, body := upload(`<opml version="2.0"><body><outline text="Gone" xmlUrl="https://gone.example.invalid/rss"/>` +
		`<outline text="Bad" xmlUrl="ftp://x.example/feed"/></body></opml>`)
	if resp.StatusCode != 200 || !strings.Contains(body, "1 added, 0 already there, 1 refused.") || !strings.Contains(body, `unsupported scheme &#34;ftp&#34;`) {
		t.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	resp, body = upload("")
	if resp.StatusCode != 400 || !strings.Contains(body, "The file is empty or is not an OPML document") || strings.Contains(body, "EOF") {
		t.Fatalf("empty file: %d\n%s", resp.StatusCode, body)
	}
}

// TestMetricsNeedATokenAndTheHost: with tokens, /metrics (which names sources
// and notifiers) needs one, or the metrics token; it has the Host check;
// /healthz stays open and says ok and nothing else (issue 12, item 8).
func TestMetricsNeedATokenAndTheHost(t *testing.T) {
	const metricsToken = "metrics-only-token-0123"
	e := newEnvWith(t, func(o *web.Options) { o.Tokens, o.MetricsToken = []string{token}, metricsToken })
	for _, tt := range []struct {
		headers []string
		want    int
	}{
		{nil, 401},
		{[]string{"Authorization: Bearer wrong"}, 401},
		{[]string{"Authorization: Bearer " + token}, 200},
		{[]string{"Authorization: Bearer " + metricsToken}, 200},
		{[]string{"Authorization: Bearer " + token, "Host: evil.example"}, 421},
	} {
		if resp, body := e.request("GET", "/metrics", "", tt.headers...); resp.StatusCode != tt.want {
			t.Errorf("%v: %d %.80s, want %d", tt.headers, resp.StatusCode, body, tt.want)
		}
	}
	// The metrics token opens nothing else.
	if resp, _ := e.request("GET", "/api/v1/rules", "", "Authorization: Bearer "+metricsToken); resp.StatusCode != 401 {
		t.Errorf("metrics token on the API: %d", resp.StatusCode)
	}
	resp, body := e.request("GET", "/healthz", "", "Host: evil.example")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	// Without tokens /metrics is open, as the server then only listens on
	// loopback; the Host check still holds.
	open := newEnv(t)
	if resp, _ := open.request("GET", "/metrics", ""); resp.StatusCode != 200 {
		t.Errorf("no tokens: %d", resp.StatusCode)
	}
	if resp, _ := open.request("GET", "/metrics", "", "Host: evil.example"); resp.StatusCode != 421 {
		t.Errorf("no tokens, foreign Host: %d", resp.StatusCode)
	}
}

// TestLoginNextIsALocalPath: next= sends nobody to another site, whatever a
// browser would make of tabs, newlines, backslashes or an encoded scheme
// (issue 12, item 7).
func TestLoginNextIsALocalPath(t *testing.T) {
	e := newEnv(t, token)
	for next, want := range map[string]string{
		"/rules?x=1":            "/rules?x=1",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"/\r\n/evil.example":    "/",
		"/ /evil.example":       "/",
		"/\\evil.example":       "/",
		"//evil.example":        "/",
		"/\u00a0/evil.example":  "/",
		"/\u200b/evil.example":  "/",
		"https://evil.example/": "/",
		"/%09/evil.example":     "/%09/evil.example",
		"javascript:alert(1)":   "/",
		"":                      "/",
	} {
		resp, _ := e.form("/login", url.Values{"token": {token}, "next": {next}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Errorf("next=%q: %d Location %q, want %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// TestFailedLoginsAreThrottled: after a few wrong tokens from one address,
// logins from it are refused for a while, the right token too, so guessing
// is slow (issue 12, item 10).
func TestFailedLoginsAreThrottled(t *testing.T) {
	e := newEnv(t, token)
	for i := range 5 {
		if resp, _ := e.form("/login", url.Values{"token": {fmt.Sprintf("wrong-%d", i)}}); resp.StatusCode != 401 {
			t.Fatalf("attempt %d: %d, want 401", i, resp.StatusCode)
		}
	}
	for _, tok := range []string{"wrong-again", token} {
		resp, body := e.form("/login", url.Values{"token": {tok}})
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed logins") {
			t.Fatalf("after 5 failures: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Fatal("a throttled login got a session")
		}
	}
	// Wrong bearer tokens count the same, so the API is no way around it.
	if resp, _ := e.request("GET", "/api/v1/rules", "", "Authorization: Bearer "+token); resp.StatusCode != 429 {
		t.Fatalf("API with token from a throttled address: %d", resp.StatusCode)
	}
	api := newEnv(t, token)
	for range 6 {
		api.request("GET", "/api/v1/rules", "", "Authorization: Bearer wrong")
	}
	if resp, _ := api.request("GET", "/api/v1/rules", "", "Authorization: Bearer "+token); resp.StatusCode != 429 {
		t.Fatalf("API after 6 wrong bearer tokens: %d", resp.StatusCode)
	}
}

// overBudgetRules is a live rule set that reports a rule over its regex
// budget.
type overBudgetRules struct{ *bot.RuleSet }

func (overBudgetRules) OverBudget() map[string]int { return map[string]int{"nvidia-china": 3} }

// TestRulesPageShowsRegexOverBudget: a rule whose regular expressions keep
// running out of their budget is marked on the rules page and in the API
// (issue 12, item 1).
func TestRulesPageShowsRegexOverBudget(t *testing.T) {
	e := newEnvWith(t, func(o *web.Options) {
		o.Service = service.New(service.Options{Store: o.Store.(store.Store), Rules: overBudgetRules{bot.NewRuleSet(o.Store.(store.Store), slog.New(slog.DiscardHandler))}})
	})
	e.seed()
	_, body := e.request("GET", "/rules", "")
	if !strings.Contains(body, "regex too slow ×3") {
		t.Error("the rules page does not mark the rule over its regex budget")
	}
	_, js := e.request("GET", "/api/v1/rules", "")
	if !strings.Contains(js, `"regex_over_budget":3`) {
		t.Errorf("the API does not report it: %s", js)
	}
}

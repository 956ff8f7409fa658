package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/api"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
	"github.com/wirewatch/wirewatch/story"
)

func TestSources(t *testing.T) {
	e := newEnv(t, envOpt{})
	feeds := feedServer(t)
	ctx := context.Background()
	if _, err := e.st.SyncConfigSources(ctx, []store.Source{{Name: "Config feed", URL: "https://config.example/rss", Origin: store.OriginConfig}}); err != nil {
		t.Fatal(err)
	}
	all, _ := e.st.Sources(ctx)
	cfg := all[0]
	state := store.SourceState{LastFetch: now.Add(-time.Minute), LastStatus: 503, LastError: "status 503", Failures: 3,
		FailingSince: now.Add(-time.Hour), NextFetch: now.Add(10 * time.Minute)}
	if err := e.st.SaveSourceState(ctx, cfg.ID, state, store.Lease{}); err != nil {
		t.Fatal(err)
	}

	var list api.SourceList
	if code := e.do("GET", "/api/v1/sources", nil, &list); code != 200 || len(list.Sources) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	got := list.Sources[0]
	if got.Origin != "config" || got.Failures != 3 || got.LastStatus != 503 || got.LastError != "status 503" ||
		got.LastFetch == nil || got.NextFetch == nil || !got.NextFetch.Equal(state.NextFetch) {
		t.Fatalf("health not shown: %+v", got)
	}
	// A healthy source shows its next scheduled fetch; one due now, none.
	slot := now.Add(4 * time.Minute)
	if err := e.st.SaveSourceState(ctx, cfg.ID, store.SourceState{LastFetch: now.Add(-time.Minute), LastStatus: 200, NextFetch: slot}, store.Lease{}); err != nil {
		t.Fatal(err)
	}
	if code := e.do("GET", "/api/v1/sources", nil, &list); code != 200 || list.Sources[0].NextFetch == nil ||
		!list.Sources[0].NextFetch.Equal(slot) {
		t.Fatalf("healthy source: next_fetch = %v, want its next scheduled slot", list.Sources[0].NextFetch)
	}
	if err := e.st.FetchSoon(ctx, cfg.ID); err != nil {
		t.Fatal(err)
	}
	if code := e.do("GET", "/api/v1/sources", nil, &list); code != 200 || list.Sources[0].NextFetch != nil {
		t.Fatalf("source due now: next_fetch = %v, want null", list.Sources[0].NextFetch)
	}
	if err := e.st.SaveSourceState(ctx, cfg.ID, state, store.Lease{}); err != nil {
		t.Fatal(err)
	}

	var added api.Source
	if code := e.do("POST", "/api/v1/sources", map[string]string{"url": feeds.URL + "/feed.xml"}, &added); code != 201 {
		t.Fatalf("add: %d", code)
	}
	if added.ID == 0 || added.Origin != "api" || added.Name != "Walrus Watch /feed.xml" {
		t.Fatalf("added %+v", added)
	}
	var apiErr api.Error
	if code := e.do("POST", "/api/v1/sources", map[string]string{"url": feeds.URL + "/feed.xml"}, &apiErr); code != 409 {
		t.Fatalf("same URL again: %d %+v", code, apiErr)
	}
	if code := e.do("POST", "/api/v1/sources", map[string]string{"url": "ftp://x"}, &apiErr); code != 400 || apiErr.Field != "url" {
		t.Fatalf("bad URL: %d %+v", code, apiErr)
	}

	var one api.Source
	if code := e.do("GET", fmt.Sprintf("/api/v1/sources/%d", added.ID), nil, &one); code != 200 || one.URL != added.URL {
		t.Fatalf("get: %d %+v", code, one)
	}
	if code := e.do("PATCH", fmt.Sprintf("/api/v1/sources/%d", added.ID), map[string]any{"paused": true, "name": "Walruses"}, &one); code != 200 || !one.Paused || one.Name != "Walruses" {
		t.Fatalf("patch: %d %+v", code, one)
	}
	if code := e.do("PATCH", fmt.Sprintf("/api/v1/sources/%d", cfg.ID), map[string]any{"paused": true}, &one); code != 200 || !one.Paused {
		t.Fatalf("pausing a config source: %d %+v", code, one)
	}
	if code := e.do("PATCH", fmt.Sprintf("/api/v1/sources/%d", cfg.ID), map[string]any{"name": "x"}, &apiErr); code != 409 ||
		!strings.Contains(apiErr.Error, "configuration file") {
		t.Fatalf("renaming a config source: %d %+v", code, apiErr)
	}
	if code := e.do("PATCH", fmt.Sprintf("/api/v1/sources/%d", cfg.ID), map[string]any{"url": "https://x"}, &apiErr); code != 400 {
		t.Fatalf("unknown field: %d %+v", code, apiErr)
	}

	var chk api.CheckResult
	if code := e.do("POST", fmt.Sprintf("/api/v1/sources/%d/check", cfg.ID), nil, &chk); code != 202 || !chk.Queued {
		t.Fatalf("check: %d %+v", code, chk)
	}
	if got, err := e.st.Source(ctx, cfg.ID); err != nil || !got.State.NextFetch.IsZero() {
		t.Fatalf("check did not make the source due now: %+v, %v", got.State, err)
	}
	if code := e.do("POST", "/api/v1/sources/999/check", nil, &apiErr); code != 404 {
		t.Fatalf("check of a missing source: %d", code)
	}
	if code := e.do("POST", "/api/v1/sources/abc/check", nil, &apiErr); code != 400 {
		t.Fatalf("check of a bad id: %d", code)
	}

	if code := e.do("DELETE", fmt.Sprintf("/api/v1/sources/%d", cfg.ID), nil, &apiErr); code != 409 {
		t.Fatalf("delete config source: %d", code)
	}
	if code := e.do("DELETE", fmt.Sprintf("/api/v1/sources/%d", added.ID), nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := e.do("GET", fmt.Sprintf("/api/v1/sources/%d", added.ID), nil, &apiErr); code != 404 {
		t.Fatalf("get deleted: %d", code)
	}
}

func TestAddSourceGoesThroughThePrivateAddressGuard(t *testing.T) {
	e := newEnv(t, envOpt{guarded: true})
	feeds := feedServer(t)
	var apiErr api.Error
	code := e.do("POST", "/api/v1/sources", map[string]string{"url": feeds.URL + "/feed.xml"}, &apiErr)
	if code != 400 || apiErr.Field != "url" || !strings.Contains(apiErr.Error, "refused") {
		t.Fatalf("a feed on 127.0.0.1: %d %+v", code, apiErr)
	}
}

func TestOPMLImportAndExport(t *testing.T) {
	e := newEnv(t, envOpt{})
	feeds := feedServer(t)
	doc := fmt.Sprintf(`<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="Folder"><outline text="Walruses" type="rss" xmlUrl="%[1]s/feed.xml"/>
<outline text="Gone" type="rss" xmlUrl="%[1]s/missing.xml"/></outline>
<outline text="Again" type="rss" xmlUrl="%[1]s/feed.xml"/>
<outline title="Other &amp; more" text="x" type="rss" xmlUrl="%[1]s/other.xml"/>
<outline text="Not a feed URL" type="rss" xmlUrl="ftp://example.com/feed"/>
</body></opml>`, feeds.URL)
	var rep api.ImportReport
	if code := e.do("POST", "/api/v1/sources/import", doc, &rep); code != 200 {
		t.Fatalf("import: %d", code)
	}
	// Nothing is fetched: a feed that is not there now is imported, and
	// fails on its first fetch; only a malformed address is refused.
	if rep.Added != 3 || rep.Exists != 1 || rep.Failed != 1 || len(rep.Results) != 5 {
		t.Fatalf("import report %+v", rep)
	}
	if r := rep.Results[0]; r.Status != "added" || r.Name != "Walruses" || r.ID == 0 {
		t.Fatalf("first outline %+v", r)
	}
	if r := rep.Results[1]; r.Status != "added" || r.Name != "Gone" {
		t.Fatalf("unreachable feed %+v", r)
	}
	var apiErr api.Error
	if r := rep.Results[4]; r.Status != "error" || !strings.Contains(r.Error, `unsupported scheme "ftp"`) {
		t.Fatalf("ftp outline %+v", r)
	}
	if code := e.do("POST", "/api/v1/sources/import", "", &apiErr); code != 400 || strings.Contains(apiErr.Error, "EOF") {
		t.Fatalf("empty OPML: %d %+v", code, apiErr)
	}
	if code := e.do("POST", "/api/v1/sources/import", "not xml at all", &apiErr); code != 400 || apiErr.Field != "opml" {
		t.Fatalf("bad OPML: %d %+v", code, apiErr)
	}
	if code := e.do("POST", "/api/v1/sources/import", `<opml><body><outline text="x"/></body></opml>`, &apiErr); code != 400 {
		t.Fatalf("OPML without feeds: %d %+v", code, apiErr)
	}

	resp, err := e.srv.Client().Get(e.srv.URL + "/api/v1/sources/export.opml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-opml") {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := string(body)
	if !strings.Contains(out, `xmlUrl="`+feeds.URL+`/feed.xml"`) || !strings.Contains(out, `text="Other &amp; more"`) {
		t.Fatalf("export:\n%s", out)
	}
	// What is exported imports again: every feed is already there.
	if code := e.do("POST", "/api/v1/sources/import", out, &rep); code != 200 || rep.Exists != 3 || rep.Added != 0 {
		t.Fatalf("re-import: %d %+v", code, rep)
	}
}

func TestRules(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.configRules(store.Rule{Name: "nvidia-china", Query: "nvidia china", Notify: []string{"console"}})

	var made api.Rule
	code := e.do("POST", "/api/v1/rules", map[string]any{"name": "walrus", "query": "walrus OR seal", "notify": []string{"console", "hook"}, "digest": "Daily"}, &made)
	if code != 201 || made.Origin != "api" || made.Digest != "daily" || made.ID == 0 || len(made.Notify) != 2 {
		t.Fatalf("create: %d %+v", code, made)
	}

	var apiErr api.Error
	code = e.do("POST", "/api/v1/rules", map[string]any{"query": `nvidia "export controls`, "notify": []string{"console"}}, &apiErr)
	if code != 400 || apiErr.Column != 8 || apiErr.Field != "query" || !strings.Contains(apiErr.Error, "unclosed quote") {
		t.Fatalf("bad query: %d %+v", code, apiErr)
	}
	code = e.do("POST", "/api/v1/rules", map[string]any{"query": "nvidia (china", "notify": []string{"console"}}, &apiErr)
	if code != 400 || apiErr.Column != 8 {
		t.Fatalf("unbalanced: %d %+v", code, apiErr)
	}
	code = e.do("POST", "/api/v1/rules", map[string]any{"query": "nvidia"}, &apiErr)
	if code != 400 || apiErr.Field != "notify" || apiErr.Column != 0 {
		t.Fatalf("no targets: %d %+v", code, apiErr)
	}
	code = e.do("POST", "/api/v1/rules", map[string]any{"query": "nvidia", "notify": []string{"c"}, "digest": "dayly"}, &apiErr)
	if code != 400 || apiErr.Field != "digest" {
		t.Fatalf("bad digest: %d %+v", code, apiErr)
	}
	code = e.do("POST", "/api/v1/rules", map[string]any{"name": "walrus", "query": "nvidia", "notify": []string{"c"}}, &apiErr)
	if code != 409 {
		t.Fatalf("taken name: %d %+v", code, apiErr)
	}
	code = e.do("POST", "/api/v1/rules", `{"query": "x", "notify": ["c"], "origin": "config"}`, &apiErr)
	if code != 400 || !strings.Contains(apiErr.Error, "unknown field") {
		t.Fatalf("unknown field: %d %+v", code, apiErr)
	}
	if code := e.do("POST", "/api/v1/rules", `{"query": `, &apiErr); code != 400 {
		t.Fatalf("broken JSON: %d", code)
	}

	var list api.RuleList
	if code := e.do("GET", "/api/v1/rules", nil, &list); code != 200 || len(list.Rules) != 2 {
		t.Fatalf("list: %d %+v", code, list)
	}
	if list.Rules[0].Origin != "config" || list.Rules[1].Origin != "api" || list.Rules[0].Matches7d == nil || list.Rules[0].Alerts7d == nil {
		t.Fatalf("list: %+v", list.Rules)
	}
	cfgID := list.Rules[0].ID

	code = e.do("PATCH", fmt.Sprintf("/api/v1/rules/%d", cfgID), map[string]any{"paused": true}, &apiErr)
	if code != 409 || !strings.Contains(apiErr.Error, "defined in the configuration file") {
		t.Fatalf("patch config rule: %d %+v", code, apiErr)
	}
	code = e.do("DELETE", fmt.Sprintf("/api/v1/rules/%d", cfgID), nil, &apiErr)
	if code != 409 || !strings.Contains(apiErr.Error, "defined in the configuration file") {
		t.Fatalf("delete config rule: %d %+v", code, apiErr)
	}

	var patched api.Rule
	code = e.do("PATCH", fmt.Sprintf("/api/v1/rules/%d", made.ID), map[string]any{"query": "walrus", "paused": true}, &patched)
	if code != 200 || patched.Query != "walrus" || !patched.Paused || patched.Digest != "daily" {
		t.Fatalf("patch: %d %+v", code, patched)
	}
	code = e.do("PATCH", fmt.Sprintf("/api/v1/rules/%d", made.ID), map[string]any{"query": "-walrus"}, &apiErr)
	if code != 400 || apiErr.Column != 1 {
		t.Fatalf("patch bad query: %d %+v", code, apiErr)
	}
	if code := e.do("GET", fmt.Sprintf("/api/v1/rules/%d", made.ID), nil, &patched); code != 200 || patched.Query != "walrus" {
		t.Fatalf("get: %d %+v", code, patched)
	}
	if code := e.do("DELETE", fmt.Sprintf("/api/v1/rules/%d", made.ID), nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := e.do("DELETE", fmt.Sprintf("/api/v1/rules/%d", made.ID), nil, &apiErr); code != 404 {
		t.Fatalf("delete again: %d", code)
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.ingest(0, makeStories("a", "Nvidia ships chips to China", 30)...)
	e.ingest(0, makeStories("b", "Nvidia stock price rises", 5)...)
	old := makeStories("c", "Nvidia China deal", 1)
	old[0].Published = now.AddDate(0, 0, -40)
	e.ingest(0, old...)

	var p api.PreviewResult
	if code := e.do("POST", "/api/v1/rules/preview", map[string]any{"query": `nvidia AND (china OR beijing) -"stock price"`, "days": 30}, &p); code != 200 {
		t.Fatalf("preview: %d", code)
	}
	if p.Total != 30 || len(p.PerDay) != 30 || p.Truncated {
		t.Fatalf("preview total %d, %d days, truncated %v", p.Total, len(p.PerDay), p.Truncated)
	}
	if p.PerDay[29].Day != "2026-11-28" || p.PerDay[29].Count+p.PerDay[28].Count != 30 {
		t.Fatalf("per day %+v", p.PerDay[27:])
	}
	if len(p.Stories) != api.PreviewSample || !slices.Equal(p.Stories[0].Terms, []string{"nvidia", "china"}) || p.Stories[0].ID != "a-000" {
		t.Fatalf("stories %+v", p.Stories[0])
	}
	// Every story stands for its own event here; the store holds one day
	// of fetches (all fetched now), so the rate is over that day.
	if p.Alerts != 30 || p.More != 30-api.PreviewSample || p.CoveredDays != 1 || p.AlertsPerDay != float64(p.PerDay[29].Count) || p.Definition == "" {
		t.Fatalf("preview alerts %d, more %d, covered %d, rate %v", p.Alerts, p.More, p.CoveredDays, p.AlertsPerDay)
	}
	if code := e.do("POST", "/api/v1/rules/preview", map[string]any{"query": "nvidia", "days": 60, "limit": 2}, &p); code != 200 || p.Total != 36 || len(p.Stories) != 2 {
		t.Fatalf("60 days: %d %d %d", code, p.Total, len(p.Stories))
	}

	var apiErr api.Error
	code := e.do("POST", "/api/v1/rules/preview", map[string]any{"query": `nvidia "export`}, &apiErr)
	if code != 400 || apiErr.Column != 8 || apiErr.Field != "query" {
		t.Fatalf("bad query: %d %+v", code, apiErr)
	}
	if code := e.do("POST", "/api/v1/rules/preview", map[string]any{"query": "x", "days": 400}, &apiErr); code != 400 || apiErr.Field != "days" {
		t.Fatalf("days: %d %+v", code, apiErr)
	}
}

// seedAlerts stores n matching stories (one delivery each) and marks them:
// even ids failed, odd ids sent.
func seedAlerts(t *testing.T, e *env, n int) []int64 {
	t.Helper()
	e.configRules(store.Rule{Name: "walrus", Query: "walrus", Notify: []string{"console"}},
		store.Rule{Name: "seal", Query: "seal", Notify: []string{"console"}})
	e.ingest(0, makeStories("w", "A walrus appears", n)...)
	e.ingest(0, makeStories("s", "A seal appears", 2)...)
	ds, err := e.st.Deliveries(context.Background(), store.DeliveryQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
		if d.Rules[0] != "walrus" {
			continue
		}
		if d.ID%2 == 0 {
			storetest.MarkFailed(t, e.st, d.ID, "webhook: status 500")
		} else {
			storetest.MarkSent(t, e.st, d.ID, "ref", now)
		}
	}
	return ids
}

func TestAlertsAndRetry(t *testing.T) {
	e := newEnv(t, envOpt{})
	seedAlerts(t, e, 7)

	var list api.AlertList
	if code := e.do("GET", "/api/v1/alerts", nil, &list); code != 200 || len(list.Alerts) != 9 || list.NextBefore != nil {
		t.Fatalf("all: %d %d %v", code, len(list.Alerts), list.NextBefore)
	}
	if a := list.Alerts[0]; a.Story == nil || a.Story.Title != "A seal appears" || a.Status != "pending" || a.Kind != "alert" || a.Waiting != "due" {
		t.Fatalf("newest %+v", a)
	}
	if code := e.do("GET", "/api/v1/alerts?status=failed", nil, &list); code != 200 || len(list.Alerts) != 3 {
		t.Fatalf("failed: %d %+v", code, list)
	}
	failed := list.Alerts[0]
	if failed.LastError != "webhook: status 500" || failed.Status != "failed" {
		t.Fatalf("failed row %+v", failed)
	}
	if code := e.do("GET", "/api/v1/alerts?rule=seal", nil, &list); code != 200 || len(list.Alerts) != 2 {
		t.Fatalf("by rule: %d %d", code, len(list.Alerts))
	}
	if code := e.do("GET", "/api/v1/alerts?since=2026-11-29", nil, &list); code != 200 || len(list.Alerts) != 0 {
		t.Fatalf("since tomorrow: %d %d", code, len(list.Alerts))
	}

	// Pages of 4: 4 + 4 + 1, no row twice.
	seen := map[int64]bool{}
	path := "/api/v1/alerts?limit=4"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		var page api.AlertList
		if code := e.do("GET", path, nil, &page); code != 200 {
			t.Fatalf("page: %d", code)
		}
		for _, a := range page.Alerts {
			if seen[a.ID] {
				t.Fatalf("alert %d on two pages", a.ID)
			}
			seen[a.ID] = true
		}
		if page.NextBefore == nil {
			break
		}
		path = fmt.Sprintf("/api/v1/alerts?limit=4&before=%d", *page.NextBefore)
	}
	if len(seen) != 9 {
		t.Fatalf("paged through %d alerts, want 9", len(seen))
	}

	var apiErr api.Error
	for _, q := range []string{"status=lost", "since=yesterday", "limit=0", "limit=100000", "before=x"} {
		if code := e.do("GET", "/api/v1/alerts?"+q, nil, &apiErr); code != 400 {
			t.Errorf("%s: %d", q, code)
		}
	}

	var rr api.RetryResult
	if code := e.do("POST", fmt.Sprintf("/api/v1/alerts/%d/retry", failed.ID), nil, &rr); code != 200 || rr.Status != "pending" {
		t.Fatalf("retry: %d %+v", code, rr)
	}
	// Pending now: "retry" sends it now (200, not 409: issue 12, item 3),
	// and it can be cancelled, once.
	if code := e.do("POST", fmt.Sprintf("/api/v1/alerts/%d/retry", failed.ID), nil, &rr); code != 200 || rr.Status != "pending" {
		t.Fatalf("retry a pending alert: %d %+v", code, rr)
	}
	if code := e.do("POST", fmt.Sprintf("/api/v1/alerts/%d/cancel", failed.ID), nil, &rr); code != 200 || rr.Status != "failed" {
		t.Fatalf("cancel: %d %+v", code, rr)
	}
	var one api.Alert
	if code := e.do("GET", "/api/v1/alerts?status=failed", nil, &list); code != 200 {
		t.Fatal(code)
	}
	for _, a := range list.Alerts {
		if a.ID == failed.ID {
			one = a
		}
	}
	if one.LastError != api.CancelReason {
		t.Errorf("cancelled alert = %+v, want its error to say it was cancelled", one)
	}
	if code := e.do("POST", fmt.Sprintf("/api/v1/alerts/%d/cancel", failed.ID), nil, &apiErr); code != 409 || !strings.Contains(apiErr.Error, "only pending alerts") {
		t.Fatalf("cancel again: %d %+v", code, apiErr)
	}
	for _, p := range []string{"/api/v1/alerts/99999/retry", "/api/v1/alerts/99999/cancel"} {
		if code := e.do("POST", p, nil, &apiErr); code != 404 {
			t.Fatalf("%s: %d %+v", p, code, apiErr)
		}
	}
}

// TestAlertsPagingDeepInTheLog: the before= cursor is a bound of the store's
// query, so a page far down a long log is found however many newer rows
// there are, and filters hold on every page.
func TestAlertsPagingDeepInTheLog(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	old, err := e.st.Enqueue(ctx, []store.Delivery{
		{Target: "ops", Kind: "health", Text: "old 1"},
		{Target: "console", Kind: "health", Text: "old 2"},
		{Target: "ops", Kind: "health", Text: "old 3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// More newer rows than a page may read: paging used to filter them in Go,
	// up to 20,000 rows, and came back empty here.
	newer := make([]store.Delivery, 20_100)
	for i := range newer {
		newer[i] = store.Delivery{Target: "console", Kind: "health", Text: "newer"}
	}
	if _, err := e.st.Enqueue(ctx, newer); err != nil {
		t.Fatal(err)
	}

	var list api.AlertList
	path := fmt.Sprintf("/api/v1/alerts?limit=2&before=%d", old[2].ID+1)
	if code := e.do("GET", path, nil, &list); code != 200 || len(list.Alerts) != 2 || list.NextBefore == nil {
		t.Fatalf("page deep in the log: %d %+v", code, list)
	}
	if list.Alerts[0].ID != old[2].ID || list.Alerts[1].ID != old[1].ID || *list.NextBefore != old[1].ID {
		t.Fatalf("page = %d, %d next %d; want %d, %d next %d",
			list.Alerts[0].ID, list.Alerts[1].ID, *list.NextBefore, old[2].ID, old[1].ID, old[1].ID)
	}

	var ids []int64
	path = "/api/v1/alerts?target=ops&limit=1"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		if code := e.do("GET", path, nil, &list); code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, a := range list.Alerts {
			ids = append(ids, a.ID)
		}
		if list.NextBefore == nil {
			break
		}
		path = fmt.Sprintf("/api/v1/alerts?target=ops&limit=1&before=%d", *list.NextBefore)
	}
	if !slices.Equal(ids, []int64{old[2].ID, old[0].ID}) {
		t.Fatalf("target=ops pages = %v, want %d, %d", ids, old[2].ID, old[0].ID)
	}
}

func TestStoriesLookupAndPaging(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.ingest(0, makeStories("a", "Nvidia export controls tighten", 12)...)
	same := makeStories("t", "Walrus at the same instant", 5)
	for i := range same {
		same[i].Published = now.Add(-30 * time.Minute)
	}
	e.ingest(0, same...)

	var list api.StoryList
	if code := e.do("GET", "/api/v1/stories?q=export*&limit=5", nil, &list); code != 200 || len(list.Stories) != 5 || list.NextBefore == nil {
		t.Fatalf("lookup: %d %+v", code, list)
	}
	if !slices.Equal(list.Stories[0].Terms, []string{"export*"}) {
		t.Fatalf("terms %v", list.Stories[0].Terms)
	}
	// Without a query, pages of 2 walk every story once, also across the
	// five that share one publication time.
	seen := map[string]bool{}
	path := "/api/v1/stories?limit=2"
	for pages := 0; pages < 20; pages++ {
		var page api.StoryList
		if code := e.do("GET", path, nil, &page); code != 200 {
			t.Fatalf("page: %d", code)
		}
		for _, s := range page.Stories {
			if seen[s.ID] {
				t.Fatalf("story %s on two pages", s.ID)
			}
			seen[s.ID] = true
		}
		if page.NextBefore == nil {
			break
		}
		path = "/api/v1/stories?limit=2&before=" + *page.NextBefore
	}
	if len(seen) != 17 {
		t.Fatalf("paged through %d stories, want 17", len(seen))
	}
	// The same with a query.
	seen = map[string]bool{}
	path = "/api/v1/stories?q=walrus&limit=2"
	for pages := 0; pages < 10; pages++ {
		var page api.StoryList
		if code := e.do("GET", path, nil, &page); code != 200 {
			t.Fatalf("page: %d", code)
		}
		for _, s := range page.Stories {
			seen[s.ID] = true
		}
		if page.NextBefore == nil {
			break
		}
		path = "/api/v1/stories?q=walrus&limit=2&before=" + *page.NextBefore
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d walrus stories, want 5", len(seen))
	}

	var apiErr api.Error
	if code := e.do("GET", "/api/v1/stories?q=nvidia+(china", nil, &apiErr); code != 400 || apiErr.Column != 8 {
		t.Fatalf("bad query: %d %+v", code, apiErr)
	}
	if code := e.do("GET", "/api/v1/stories?before=nonsense", nil, &apiErr); code != 400 {
		t.Fatalf("bad cursor: %d %+v", code, apiErr)
	}
	var one api.Story
	if code := e.do("GET", "/api/v1/stories/a-001", nil, &one); code != 200 || one.Title != "Nvidia export controls tighten" {
		t.Fatalf("get: %d %+v", code, one)
	}
	if code := e.do("GET", "/api/v1/stories/nope", nil, &apiErr); code != 404 {
		t.Fatalf("get missing: %d", code)
	}
}

func TestExplain(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.configRules(
		store.Rule{Name: "nvidia-china", Query: `nvidia AND (china OR beijing) -"stock price"`, Notify: []string{"console"}},
		store.Rule{Name: "exports", Query: "title:export* nvidia", Notify: []string{"console"}},
		store.Rule{Name: "nvidia-no-stock", Query: `nvidia -"stock price"`, Notify: []string{"console"}},
		store.Rule{Name: "reuters", Query: "nvidia site:reuters.com", Notify: []string{"console"}},
		store.Rule{Name: "other-source", Query: "nvidia", Notify: []string{"console"}, Sources: []string{"Elsewhere"}},
	)
	e.ingest(0, story.Story{ID: "s1", Title: "Nvidia stock price jumps", Summary: "Shares of the chip maker rose in Beijing trading.",
		Source: "Wire", URL: "https://www.reuters.com/x", Published: now.Add(-time.Hour)})

	var ex api.Explanation
	if code := e.do("GET", "/api/v1/stories/s1/explain", nil, &ex); code != 200 || len(ex.Rules) != 5 {
		t.Fatalf("explain: %d %+v", code, ex)
	}
	byName := map[string]api.RuleVerdict{}
	for _, v := range ex.Rules {
		byName[v.Name] = v
	}

	nc := byName["nvidia-china"]
	if nc.Matched || !slices.Contains(nc.Reasons, `excludes "stock price" — found in title`) {
		t.Fatalf("nvidia-china: %+v", nc)
	}
	var beijing api.TermCheck
	for _, c := range nc.Checks {
		if c.Term == "beijing" {
			beijing = c
		}
	}
	if !beijing.Found || !slices.Equal(beijing.Fields, []string{"summary"}) {
		t.Fatalf("beijing check %+v in %+v", beijing, nc.Checks)
	}

	exp := byName["exports"]
	if exp.Matched || !slices.Contains(exp.Reasons, "needs 'title:export*' — not found") {
		t.Fatalf("exports: %+v", exp)
	}

	rt := byName["reuters"]
	if !rt.Matched || !slices.Equal(rt.Terms, []string{"nvidia", "site:reuters.com"}) || len(rt.Reasons) != 0 {
		t.Fatalf("reuters: %+v", rt)
	}
	for _, c := range rt.Checks {
		if c.Term == "site:reuters.com" && !slices.Equal(c.Fields, []string{"url"}) {
			t.Fatalf("site check %+v", c)
		}
		if c.Term == "nvidia" && !slices.Equal(c.Fields, []string{"title"}) {
			t.Fatalf("nvidia check %+v", c)
		}
	}

	if v := byName["nvidia-no-stock"]; v.Matched || len(v.Reasons) != 1 {
		t.Fatalf("nvidia-no-stock: %+v", v)
	}
	if v := byName["other-source"]; v.Matched || len(v.Reasons) != 1 || !strings.Contains(v.Reasons[0], `only listens to "Elsewhere"`) {
		t.Fatalf("other-source: %+v", v)
	}

	// Where it went: reuters matched as the story came in and queued an
	// alert to console, naming the rules that matched.
	if len(ex.Deliveries) == 0 || ex.Deliveries[0].Target != "console" || ex.Deliveries[0].Status != "pending" ||
		rt.Recorded == nil || !slices.Equal(rt.Outcome, []string{"An alert waits to go to console."}) || ex.Cluster != "" || len(ex.AlsoReportedBy) != 0 {
		t.Fatalf("where it went: %+v, reuters %+v", ex.Deliveries, rt)
	}
	if v := byName["exports"]; v.Recorded != nil || len(v.Outcome) != 0 {
		t.Fatalf("exports outcome: %+v", v)
	}

	var apiErr api.Error
	if code := e.do("GET", "/api/v1/stories/missing/explain", nil, &apiErr); code != 404 {
		t.Fatalf("explain missing: %d", code)
	}
}

func TestUnknownEndpointAnswersJSON(t *testing.T) {
	e := newEnv(t, envOpt{})
	var apiErr api.Error
	if code := e.do("GET", "/api/v1/nothing", nil, &apiErr); code != 404 || apiErr.Error == "" {
		t.Fatalf("unknown: %d %+v", code, apiErr)
	}
	if code := e.do("PUT", "/api/v1/rules", nil, nil); code != 405 {
		t.Fatalf("wrong method: %d", code)
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Time{
		"":                     {},
		"2026-11-27":           time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		"2026-11-27T10:00:00Z": time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		"2h":                   now.Add(-2 * time.Hour),
	} {
		got, err := api.ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-2h", "0s"} {
		if _, err := api.ParseSince(in, now); err == nil {
			t.Errorf("ParseSince(%q): no error", in)
		}
	}
}

// A request body larger than the limit is refused, not read to the end.
func TestLargeBodyIsRefused(t *testing.T) {
	e := newEnv(t, envOpt{})
	big := `{"query": "` + strings.Repeat("a", api.MaxBody) + `"}`
	if code := e.do(http.MethodPost, "/api/v1/rules/preview", big, nil); code != 413 {
		t.Fatalf("big body: %d", code)
	}
}

// TestBodiesMustBeJSON: a body declared as a form, as text or not at all
// is refused with 415 before it is read (issue 12, item 10): a page of
// another site can send those without a preflight.
func TestBodiesMustBeJSON(t *testing.T) {
	e := newEnv(t, envOpt{})
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "json"} {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/rules", strings.NewReader(`{"query": "otter", "notify": ["console"]}`))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415", ct, resp.StatusCode)
		}
	}
	var list struct{ Rules []api.Rule }
	if e.do(http.MethodGet, "/api/v1/rules", nil, &list); len(list.Rules) != 0 {
		t.Errorf("a refused body made rules: %+v", list.Rules)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/merge-patch+json"} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/rules/preview", strings.NewReader(`{"query": "otter"}`))
		req.Header.Set("Content-Type", ct)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("Content-Type %q: %d, want 200", ct, resp.StatusCode)
		}
	}
}

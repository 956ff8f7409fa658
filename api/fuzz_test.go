package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// FuzzAPI sends any method, path and body to the API: it must answer JSON
// (or OPML), never panic, and never fail with 500.
func FuzzAPI(f *testing.F) {
	e := newEnv(f, envOpt{})
	e.configRules(store.Rule{Name: "r", Query: "nvidia china", Notify: []string{"console"}})
	e.ingest(0, story.Story{ID: "s1", Title: "Nvidia in China", Published: now.Add(-time.Hour)})
	seeds := []struct{ method, path, body string }{
		{"POST", "/api/v1/rules/preview", `{"query": "nvidia \"china", "days": 3}`},
		{"POST", "/api/v1/rules", `{"query": "a OR -b", "notify": ["x"]}`},
		{"PATCH", "/api/v1/rules/1", `{"paused": true}`},
		{"GET", "/api/v1/stories?q=nvidia&limit=3&before=1:x", ""},
		{"GET", "/api/v1/stories/s1/explain", ""},
		{"GET", "/api/v1/alerts?since=2h&status=failed&before=3", ""},
		{"POST", "/api/v1/sources/import", `<opml><body><outline xmlUrl="file:///etc/passwd"/></body></opml>`},
		{"DELETE", "/api/v1/sources/9", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	h := e.srv.Config.Handler
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/api/") || strings.ContainsAny(path, " \r\n\t#") {
			return
		}
		switch method {
		case "GET", "POST", "PATCH", "DELETE", "PUT":
		default:
			return
		}
		if method == "POST" && strings.HasSuffix(path, "/check") || strings.HasSuffix(path, "/sources") && method == "POST" ||
			strings.HasSuffix(path, "/import") {
			return // these fetch URLs: covered by their own tests
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code != 204 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %s", method, path, rec.Body)
		}
	})
}

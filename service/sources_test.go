package service_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/service"
	"github.com/wirewatch/wirewatch/sources"
	"github.com/wirewatch/wirewatch/store"
)

// feedServer serves, on 127.0.0.1, an RSS feed per path: "/titled" has a
// title, "/untitled" none, "/broken" is not XML, "/gone" is a 404.
func feedServer(t *testing.T) *httptest.Server {
	t.Helper()
	rss := func(title string) string {
		return fmt.Sprintf(`<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>`+
			`<item><guid>1</guid><title>Walrus spotted</title><link>https://example.com/1</link></item>`+
			`</channel></rss>`, title)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/titled", "/titled2", "/titled3":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, rss("  Walrus   Watch "))
		case "/untitled":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, rss(""))
		case "/broken":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, "<rss><channel><item>")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func allowPrivate(o *service.Options) { o.AllowPrivateAddresses = true }

func TestAddSourceNamesAndSchedulesIt(t *testing.T) {
	e := newEnv(t, allowPrivate)
	srv := feedServer(t)
	ctx := context.Background()

	src, err := e.svc.AddSource(ctx, srv.URL+"/titled", "", "U1", store.OriginChat)
	if err != nil {
		t.Fatal(err)
	}
	if src.Name != "Walrus Watch" || src.Origin != store.OriginChat || src.AddedBy != "U1" || src.ID == 0 {
		t.Fatalf("source %+v", src)
	}
	if due, err := e.st.ClaimSources(ctx, store.SourceClaim{Owner: "test", TTL: time.Minute, Limit: 10}); err != nil || len(due) != 1 || due[0].ID != src.ID {
		t.Fatalf("a new source is due at once: %+v, %v", due, err)
	}
	second, err := e.svc.AddSource(ctx, srv.URL+"/titled2", "", "U1", store.OriginChat)
	if err != nil || second.Name != "Walrus Watch (2)" {
		t.Fatalf("second: %q, %v; want a unique name", second.Name, err)
	}
	untitled, err := e.svc.AddSource(ctx, srv.URL+"/untitled", "", "U1", "")
	if err != nil || untitled.Name != "127.0.0.1" || untitled.Origin != store.OriginAPI {
		t.Fatalf("untitled: %+v, %v; want the host as name, origin api", untitled, err)
	}
	named, err := e.svc.AddSource(ctx, srv.URL+"/titled3", " Walruses ", "U1", store.OriginChat)
	if err != nil || named.Name != "Walruses" {
		t.Fatalf("named: %+v, %v", named, err)
	}

	if _, err := e.svc.AddSource(ctx, srv.URL+"/titled", "Other", "U1", store.OriginChat); !errors.Is(err, store.ErrExists) ||
		!strings.Contains(err.Error(), `"Walrus Watch" already fetches that URL`) {
		t.Fatalf("same URL: %v", err)
	}
	if _, err := e.svc.AddSource(ctx, srv.URL+"/untitled?x", "walruses", "U1", store.OriginChat); !errors.Is(err, store.ErrExists) {
		t.Fatalf("taken name: %v", err)
	}
	all, _ := e.svc.Sources(ctx)
	if len(all) != 4 {
		t.Fatalf("%d sources, want 4", len(all))
	}
}

func TestAddSourceReportsBadFeeds(t *testing.T) {
	e := newEnv(t, allowPrivate)
	srv := feedServer(t)
	tests := []struct{ url, name, want string }{
		{srv.URL + "/gone", "", `the test fetch failed: the server has no page at that address (HTTP 404 Not Found)`},
		{srv.URL + "/broken", "Broken", `the test fetch failed: what is at that address is not a feed wirewatch can read`},
		{"ftp://example.com/feed", "", `unsupported scheme "ftp"`},
		{"example.com/feed", "", "not an absolute URL"},
		{"file:///etc/passwd", "", "file URLs are not allowed"},
		{srv.URL + "/titled", "12", "must not be a number"},
	}
	for _, tt := range tests {
		_, err := e.svc.AddSource(context.Background(), tt.url, tt.name, "U1", store.OriginChat)
		if !errors.Is(err, service.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrInvalid with %q", tt.url, err, tt.want)
		}
	}
	if _, err := e.svc.AddSource(context.Background(), srv.URL+"/titled", "", "", store.OriginConfig); !errors.Is(err, service.ErrInvalid) {
		t.Errorf("config origin: %v", err)
	}
	if all, _ := e.svc.Sources(context.Background()); len(all) != 0 {
		t.Fatalf("bad sources were stored: %+v", all)
	}
}

// TestAddSourceGuardRefusesPrivateAddresses runs the real guard: without
// AllowPrivateAddresses, a feed on this machine or the local network is
// refused, with the reason.
func TestAddSourceGuardRefusesPrivateAddresses(t *testing.T) {
	e := newEnv(t, nil)
	srv := feedServer(t)
	tests := []struct{ url, want string }{
		{srv.URL + "/titled", "refused: 127.0.0.1 is a loopback address"},
		{"http://localhost:8080/feed", "refused: localhost is a loopback name"},
		{"http://[::1]/feed", "refused: ::1 is a loopback address"},
		{"http://10.1.2.3/feed", "refused: 10.1.2.3 is a private address"},
		{"http://169.254.169.254/latest/meta-data", "refused: 169.254.169.254 is a link-local address"},
	}
	for _, tt := range tests {
		_, err := e.svc.AddSource(context.Background(), tt.url, "", "U1", store.OriginChat)
		if !errors.Is(err, sources.ErrRefused) || !errors.Is(err, service.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a refusal with %q", tt.url, err, tt.want)
		}
		if strings.Contains(err.Error(), tt.url) {
			t.Errorf("%s: the error repeats the URL: %v", tt.url, err)
		}
	}
	if all, _ := e.svc.Sources(context.Background()); len(all) != 0 {
		t.Fatalf("refused sources were stored: %+v", all)
	}
}

func TestRemoveSource(t *testing.T) {
	e := newEnv(t, allowPrivate)
	srv := feedServer(t)
	ctx := context.Background()
	if _, err := e.st.SyncConfigSources(ctx, []store.Source{{Name: "Reuters", URL: "https://example.com/reuters.xml"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveSource(ctx, "reuters"); !errors.Is(err, service.ErrReadOnly) {
		t.Fatalf("config source: %v, want ErrReadOnly", err)
	}
	src, err := e.svc.AddSource(ctx, srv.URL+"/titled", "", "U1", store.OriginChat)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveSource(ctx, "walrus watch"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FindSource(ctx, fmt.Sprint(src.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed source still there: %v", err)
	}
	if err := e.svc.RemoveSource(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing source: %v", err)
	}
}

package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/story"
)

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const smallFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Small</title>
<item><title>One</title><link>https://example.com/1</link><guid>g1</guid></item>
</channel></rss>`

func newTestFetcher(t *testing.T, o Options) *Fetcher {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return fixedNow }
	}
	f := NewFetcher(o)
	t.Cleanup(f.Close)
	return f
}

// serve starts a test server on 127.0.0.1 with h.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func feedHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, body)
	}
}

// asError returns err as *Error or fails the test.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	return fe
}

func TestFetchSendsUserAgentAndAccept(t *testing.T) {
	var ua, acc string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		ua, acc = r.Header.Get("User-Agent"), r.Header.Get("Accept")
		feedHandler(smallFeed)(w, r)
	})
	f := newTestFetcher(t, Options{UserAgent: UserAgent("1.2.3")})
	res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if want := "wirewatch/1.2.3 (+https://github.com/wirewatch/wirewatch)"; ua != want {
		t.Errorf("User-Agent = %q, want %q", ua, want)
	}
	if !strings.Contains(acc, "application/rss+xml") {
		t.Errorf("Accept = %q", acc)
	}
	if res.Status != 200 || res.Title != "Small" || len(res.Stories) != 1 || res.Bytes != int64(len(smallFeed)) {
		t.Errorf("result = %+v", res)
	}
}

func TestConditionalGET(t *testing.T) {
	const etag, lastMod = `"v1"`, "Sat, 28 Nov 2026 09:00:00 GMT"
	var mu sync.Mutex
	var got []http.Header
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		feedHandler(smallFeed)(w, r)
	})
	f := newTestFetcher(t, Options{})
	req := Request{SourceID: 7, Name: "Feed A", URL: srv.URL}

	first, err := f.Fetch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || first.ETag != etag || first.LastModified != lastMod || len(first.Stories) != 1 {
		t.Fatalf("first fetch = %+v", first)
	}
	if first.Stories[0].SourceID != 7 || first.Stories[0].Source != "Feed A" {
		t.Errorf("story source = %d %q", first.Stories[0].SourceID, first.Stories[0].Source)
	}

	req.ETag, req.LastModified = first.ETag, first.LastModified
	second, err := f.Fetch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || second.Status != http.StatusNotModified {
		t.Errorf("second fetch: NotModified = %v, Status = %d", second.NotModified, second.Status)
	}
	if second.Stories != nil || second.Title != "" || second.Bytes != 0 {
		t.Errorf("second fetch parsed something: %+v", second)
	}
	if second.ETag != etag || second.LastModified != lastMod {
		t.Errorf("validators not kept: %q %q", second.ETag, second.LastModified)
	}
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if h := got[0]; h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
		t.Errorf("first request was conditional: %v", h)
	}
	if h := got[1]; h.Get("If-None-Match") != etag || h.Get("If-Modified-Since") != lastMod {
		t.Errorf("second request: If-None-Match %q, If-Modified-Since %q", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
	}
}

// paddedFeed returns a valid RSS feed of exactly size bytes.
func paddedFeed(size int) []byte {
	const head = `<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><item><title>x</title><guid>g</guid></item><!--`
	const tail = `--></channel></rss>`
	b := make([]byte, 0, size)
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte{'x'}, size-len(head)-len(tail))...)
	return append(b, tail...)
}

func TestBodyCap(t *testing.T) {
	const limit = 10 << 20
	tests := []struct {
		name          string
		size          int
		contentLength bool
		wantErr       bool
	}{
		{"exactly 10 MiB, chunked", limit, false, false},
		{"exactly 10 MiB, with length", limit, true, false},
		{"one byte over, chunked", limit + 1, false, true},
		{"one byte over, with length", limit + 1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := paddedFeed(tt.size)
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				w.Write(body)
			})
			f := newTestFetcher(t, Options{})
			res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if res.Bytes != int64(tt.size) || len(res.Stories) != 1 {
					t.Errorf("Bytes = %d, %d stories", res.Bytes, len(res.Stories))
				}
				return
			}
			if err == nil {
				t.Fatal("no error for a body over the limit")
			}
			if want := `fetch "Feed A": body exceeds 10 MiB`; err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("error does not match ErrTooLarge")
			}
			if fe := asError(t, err); fe.Status != 200 {
				t.Errorf("Status = %d", fe.Status)
			}
		})
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzip(t *testing.T) {
	plain := []byte(smallFeed)
	bomb := paddedFeed(64 << 10)
	for _, tt := range []struct {
		name    string
		body    []byte
		maxBody int64
		wantErr string
	}{
		{"gzip feed", plain, 0, ""},
		{"decoded size counts against the cap", bomb, 16 << 10, `fetch "Feed A": body exceeds 16 KiB`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			zipped := gzipped(t, tt.body)
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					t.Errorf("Accept-Encoding = %q", r.Header.Get("Accept-Encoding"))
				}
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Write(zipped)
			})
			f := newTestFetcher(t, Options{MaxBody: tt.maxBody})
			res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Title != "Small" || res.Bytes != int64(len(tt.body)) {
				t.Errorf("Title = %q, Bytes = %d (want %d decoded)", res.Title, res.Bytes, len(tt.body))
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if err != nil || n == 0 {
			feedHandler(smallFeed)(w, r)
			return
		}
		http.Redirect(w, r, "/r/"+strconv.Itoa(n-1), http.StatusFound)
	})
	f := newTestFetcher(t, Options{})
	if res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL + "/r/5"}); err != nil || res.Title != "Small" {
		t.Errorf("5 redirects: %+v, %v", res, err)
	}
	_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL + "/r/6?token=s3cret"})
	if err == nil {
		t.Fatal("6 redirects followed")
	}
	if want := `fetch "Feed A": stopped after 5 redirects`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestRedirectResolvesLinksAgainstFinalURL(t *testing.T) {
	const feed = `<rss version="2.0"><channel><title>T</title>
<item><title>A</title><link>a.html</link></item></channel></rss>`
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new/feed.xml", http.StatusMovedPermanently)
			return
		}
		feedHandler(feed)(w, r)
	})
	f := newTestFetcher(t, Options{})
	res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL + "/old"})
	if err != nil {
		t.Fatal(err)
	}
	if want := srv.URL + "/new/a.html"; res.Stories[0].URL != want {
		t.Errorf("URL = %q, want %q", res.Stories[0].URL, want)
	}
}

func TestStatusErrors(t *testing.T) {
	retryDate := fixedNow.Add(90 * time.Minute).Format(http.TimeFormat)
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		wantRetryAfter time.Duration
	}{
		{"429 seconds", 429, "120", 2 * time.Minute},
		{"429 date", 429, retryDate, 90 * time.Minute},
		{"503 seconds", 503, "30", 30 * time.Second},
		{"429 garbage", 429, "soon", 0},
		{"500", 500, "", 0},
		{"500 ignores Retry-After", 500, "60", 0},
		{"404", 404, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, smallFeed)
			})
			f := newTestFetcher(t, Options{})
			res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
			if err == nil {
				t.Fatal("no error")
			}
			if want := fmt.Sprintf(`fetch "Feed A": status %d`, tt.status); err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
			fe := asError(t, err)
			if fe.Status != tt.status || res.Status != tt.status {
				t.Errorf("Status = %d / %d, want %d", fe.Status, res.Status, tt.status)
			}
			if fe.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", fe.RetryAfter, tt.wantRetryAfter)
			}
			if res.Stories != nil {
				t.Errorf("stories parsed from an error response")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	malformed, err := os.ReadFile("testdata/malformed.xml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
	}{
		{"malformed XML", string(malformed)},
		{"HTML page", "<!doctype html><html><body>not a feed</body></html>"},
		{"empty", ""},
		{"broken JSON", `{"version": "https://jsonfeed.org/version/1", "items": [`},
		{"text", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, feedHandler(tt.body))
			f := newTestFetcher(t, Options{})
			res, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			if !strings.HasPrefix(err.Error(), `parse "Feed A": `) {
				t.Errorf("error = %q", err)
			}
			if fe := asError(t, err); fe.Op != "parse" || fe.Status != 200 {
				t.Errorf("Op = %q, Status = %d", fe.Op, fe.Status)
			}
			t.Logf("%v", err)
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	f := newTestFetcher(t, Options{Timeout: 200 * time.Millisecond})
	_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
	if err == nil {
		t.Fatal("no error from a server that never answers")
	}
	if !strings.HasPrefix(err.Error(), `fetch "Feed A": `) || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("error = %q", err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error names the URL: %q", err)
	}
}

func TestTimeoutDuringBody(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(smallFeed[:20]))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	f := newTestFetcher(t, Options{Timeout: 200 * time.Millisecond})
	_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
	if err == nil || !strings.HasPrefix(err.Error(), `fetch "Feed A": read body: `) {
		t.Fatalf("error = %v", err)
	}
}

func TestContextCancel(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	f := newTestFetcher(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := f.Fetch(ctx, Request{Name: "Feed A", URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestPerHostLimit(t *testing.T) {
	const perHost, fetches = 2, 6
	var (
		mu                sync.Mutex
		inFlight, maxSeen int
		arrived           = make(chan struct{}, fetches)
		release           = make(chan struct{})
	)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		mu.Unlock()
		arrived <- struct{}{}
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		feedHandler(smallFeed)(w, r)
	})
	f := newTestFetcher(t, Options{PerHost: perHost})
	errs := make(chan error, fetches)
	for range fetches {
		go func() {
			_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
			errs <- err
		}()
	}
	// Let the first perHost in; then each release lets exactly one more in.
	for range perHost {
		<-arrived
	}
	for i := range fetches {
		release <- struct{}{}
		if i+perHost < fetches {
			<-arrived
		}
	}
	for range fetches {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	mu.Lock()
	if maxSeen > perHost {
		t.Errorf("%d fetches in flight at once, limit %d", maxSeen, perHost)
	}
	mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hosts) != 0 {
		t.Errorf("host slots left behind: %v", f.hosts)
	}
}

func TestPerHostWaitHonoursContext(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	var mu sync.Mutex
	requests := 0
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		arrived <- struct{}{}
		<-release
		feedHandler(smallFeed)(w, r)
	})
	f := newTestFetcher(t, Options{PerHost: 1})
	first := make(chan error, 1)
	go func() {
		_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL})
		first <- err
	}()
	<-arrived
	// The one slot is taken: a second fetch waits, and gives up with its context.
	ctx, cancel := context.WithCancel(t.Context())
	second := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, Request{Name: "Feed B", URL: srv.URL + "/b"})
		second <- err
	}()
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), `fetch "Feed B": `) {
		t.Errorf("waiting fetch: %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Errorf("%d requests reached the server, want 1", requests)
	}
}

func TestAcquire(t *testing.T) {
	f := newTestFetcher(t, Options{PerHost: 2})
	r1, err := f.acquire(t.Context(), "h")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := f.acquire(t.Context(), "h")
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.acquire(t.Context(), "other")
	if err != nil {
		t.Fatal("another host is not limited by h:", err)
	}
	other()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.acquire(ctx, "h"); !errors.Is(err, context.Canceled) {
		t.Errorf("third acquire on a full host: %v, want context.Canceled", err)
	}
	r1()
	r3, err := f.acquire(t.Context(), "h")
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	if len(f.hosts) != 0 {
		t.Errorf("host slots left behind: %v", f.hosts)
	}
}

func TestGuard(t *testing.T) {
	srv := serve(t, feedHandler(smallFeed))
	f := newTestFetcher(t, Options{})

	if _, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL}); err != nil {
		t.Errorf("unguarded fetch of 127.0.0.1: %v", err)
	}

	_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL, Guarded: true})
	if want := `fetch "Feed A": refused: 127.0.0.1 is a loopback address`; err == nil || err.Error() != want {
		t.Errorf("guarded fetch of 127.0.0.1: %v, want %q", err, want)
	}
	if !errors.Is(err, ErrRefused) {
		t.Errorf("error does not match ErrRefused")
	}

	// A name is checked after it resolves.
	local := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err = f.Fetch(t.Context(), Request{Name: "Feed A", URL: local, Guarded: true})
	if err == nil || !errors.Is(err, ErrRefused) || !strings.HasSuffix(err.Error(), "is a loopback address") {
		t.Errorf("guarded fetch of localhost: %v", err)
	}
	if _, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: local}); err != nil {
		t.Errorf("unguarded fetch of localhost: %v", err)
	}

	// File URLs only for trusted sources.
	_, err = f.Fetch(t.Context(), Request{Name: "Feed A", URL: "file:///etc/passwd", Guarded: true})
	if want := `fetch "Feed A": refused: file URLs are not allowed`; err == nil || err.Error() != want {
		t.Errorf("guarded file URL: %v, want %q", err, want)
	}
}

func TestGuardChecksEveryRedirectHop(t *testing.T) {
	// 127.0.0.1 stands in for a public address; the redirect to 127.0.0.2 (also
	// served by the loopback interface) must be refused when it is dialled.
	var mu sync.Mutex
	var paths []string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.Host+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/start" {
			port := requestPort(r)
			http.Redirect(w, r, "http://127.0.0.2:"+port+"/internal", http.StatusFound)
			return
		}
		feedHandler(smallFeed)(w, r)
	})
	allowOne := func(ip netip.Addr) error {
		if ip == netip.MustParseAddr("127.0.0.1") {
			return nil
		}
		return refuseAddr(ip)
	}
	f := newFetcher(Options{Now: func() time.Time { return fixedNow }}, allowOne)
	defer f.Close()
	_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: srv.URL + "/start", Guarded: true})
	if want := `fetch "Feed A": refused: 127.0.0.2 is a loopback address`; err == nil || err.Error() != want {
		t.Errorf("redirect to 127.0.0.2: %v, want %q", err, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 1 {
		t.Errorf("requests reached the server: %v", paths)
	}
}

// requestPort returns the port the request came in on.
func requestPort(r *http.Request) string {
	_, port, _ := strings.Cut(r.Host, ":")
	return port
}

func TestPrivateAddresses(t *testing.T) {
	refused := map[string]string{
		"127.0.0.1":              "refused: 127.0.0.1 is a loopback address",
		"127.8.9.10":             "refused: 127.8.9.10 is a loopback address",
		"::1":                    "refused: ::1 is a loopback address",
		"10.1.2.3":               "refused: 10.1.2.3 is a private address",
		"172.16.0.1":             "refused: 172.16.0.1 is a private address",
		"172.31.255.255":         "refused: 172.31.255.255 is a private address",
		"192.168.1.1":            "refused: 192.168.1.1 is a private address",
		"100.64.0.1":             "refused: 100.64.0.1 is a shared (CGNAT) address",
		"100.127.255.254":        "refused: 100.127.255.254 is a shared (CGNAT) address",
		"169.254.169.254":        "refused: 169.254.169.254 is a link-local address",
		"fe80::1":                "refused: fe80::1 is a link-local address",
		"fe80::1%eth0":           "refused: fe80::1 is a link-local address",
		"fc00::1":                "refused: fc00::1 is a unique-local address",
		"fd00:ec2::254":          "refused: fd00:ec2::254 is a unique-local address",
		"0.0.0.0":                "refused: 0.0.0.0 is an unspecified address",
		"::":                     "refused: :: is an unspecified address",
		"0.1.2.3":                `refused: 0.1.2.3 is a "this network" address`,
		"224.0.0.1":              "refused: 224.0.0.1 is a link-local address",
		"239.1.2.3":              "refused: 239.1.2.3 is a multicast address",
		"ff02::1":                "refused: ff02::1 is a link-local address",
		"ff05::1":                "refused: ff05::1 is a multicast address",
		"255.255.255.255":        "refused: 255.255.255.255 is a reserved address",
		"::ffff:127.0.0.1":       "refused: ::ffff:127.0.0.1 is a loopback address",
		"::ffff:10.0.0.1":        "refused: ::ffff:10.0.0.1 is a private address",
		"::ffff:169.254.169.254": "refused: ::ffff:169.254.169.254 is a link-local address",
		"64:ff9b::a00:1":         "refused: 64:ff9b::a00:1 is a private address (embedded in IPv6)",
		"2002:7f00:1::":          "refused: 2002:7f00:1:: is a loopback address (embedded in IPv6)",
	}
	for addr, want := range refused {
		err := refuseAddr(netip.MustParseAddr(addr))
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", addr, err, want)
		}
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: error does not match ErrRefused", addr)
		}
	}
	for _, addr := range []string{
		"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.15.0.1", "172.32.0.1",
		"192.169.0.1", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8",
	} {
		if err := refuseAddr(netip.MustParseAddr(addr)); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ok := []string{
		"https://news.google.com/rss/search?q=nvidia",
		"http://feeds.example.com:8080/rss",
		"https://8.8.8.8/feed",
		"https://[2606:4700::1111]/feed",
		"https://xn--bcher-kva.example/feed",
		"https://bücher.example/feed",
		"HTTPS://Example.COM/",
	}
	for _, u := range ok {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
	bad := map[string]string{
		"ftp://example.com/feed":             `unsupported scheme "ftp": use http or https`,
		"file:///etc/passwd":                 "refused: file URLs are not allowed",
		"example.com/feed":                   "not an absolute URL: it needs http:// or https://",
		"https:///feed":                      "not a valid URL: no host",
		"https:example.com":                  "not a valid URL: no host",
		"http://127.0.0.1:8080/":             "refused: 127.0.0.1 is a loopback address",
		"http://[::1]/":                      "refused: ::1 is a loopback address",
		"http://169.254.169.254/latest/meta": "refused: 169.254.169.254 is a link-local address",
		"http://10.0.0.5/":                   "refused: 10.0.0.5 is a private address",
		"http://[::ffff:192.168.0.1]/":       "refused: ::ffff:192.168.0.1 is a private address",
		"http://localhost:8080/":             "refused: localhost is a loopback name",
		"http://api.LOCALHOST./":             "refused: api.LOCALHOST. is a loopback name",
		"http://example.com:99999/":          `invalid port "99999"`,
		"http://example.com:/":               "invalid port: empty",
		"http://exa_mple..com/":              `invalid host name "exa_mple..com"`,
		"http://-bad.example/":               `invalid host name "-bad.example"`,
		"http://bad host/":                   "not a valid URL",
	}
	for u, want := range bad {
		err := CheckURL(u)
		if err == nil || err.Error() != want {
			t.Errorf("CheckURL(%q) = %v, want %q", u, err, want)
		}
	}
}

func TestErrorsHideURLSecrets(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	f := newTestFetcher(t, Options{})
	secretURL := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1) + "/feed?token=s3cret"
	_, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: secretURL})
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error = %v", err)
	}
	// A connection error, on a port nothing listens on.
	closed := httptest.NewServer(http.NotFoundHandler())
	dead := strings.Replace(closed.URL, "http://", "http://user:hunter2@", 1) + "/?token=s3cret"
	closed.Close()
	_, err = f.Fetch(t.Context(), Request{Name: "Feed A", URL: dead})
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error = %v", err)
	}
	_, err = f.Fetch(t.Context(), Request{Name: "Feed A", URL: "http://user:hunter2@exa mple.com/"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error = %v", err)
	}
	if _, err := f.Fetch(t.Context(), Request{Name: "Feed A", URL: "gopher://example.com/"}); err == nil || err.Error() != `fetch "Feed A": unsupported scheme "gopher"` {
		t.Errorf("error = %v", err)
	}
}

func TestFileURL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(path, []byte(smallFeed), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newTestFetcher(t, Options{})
	req := Request{Name: "Local", URL: "file://" + filepath.ToSlash(path)}
	res, err := f.Fetch(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || res.Title != "Small" || len(res.Stories) != 1 || res.LastModified == "" {
		t.Fatalf("result = %+v", res)
	}
	req.ETag, req.LastModified = res.ETag, res.LastModified
	res, err = f.Fetch(t.Context(), req)
	if err != nil || !res.NotModified || res.Stories != nil {
		t.Errorf("unchanged file: %+v, %v", res, err)
	}
	// Written again within the same second: Last-Modified is unchanged, the
	// ETag is not, and the new content is read.
	if err := os.WriteFile(path, []byte(strings.Replace(smallFeed, "One", "Uno", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = f.Fetch(t.Context(), req)
	if err != nil || res.NotModified || len(res.Stories) != 1 || res.Stories[0].Title != "Uno" {
		t.Errorf("file changed within a second: %+v, %v", res, err)
	}

	big := filepath.Join(dir, "big.xml")
	if err := os.WriteFile(big, paddedFeed(2048), 0o600); err != nil {
		t.Fatal(err)
	}
	small := newTestFetcher(t, Options{MaxBody: 1024})
	_, err = small.Fetch(t.Context(), Request{Name: "Local", URL: "file://" + filepath.ToSlash(big)})
	if want := `fetch "Local": body exceeds 1 KiB`; err == nil || err.Error() != want {
		t.Errorf("big file: %v, want %q", err, want)
	}
	_, err = f.Fetch(t.Context(), Request{Name: "Local", URL: "file://" + filepath.ToSlash(filepath.Join(dir, "missing.xml"))})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	_, err = f.Fetch(t.Context(), Request{Name: "Local", URL: "file://" + filepath.ToSlash(dir)})
	if err == nil {
		t.Errorf("directory: no error")
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"999999999999999999", 24 * time.Hour},
		{fixedNow.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{fixedNow.Add(-time.Hour).Format(http.TimeFormat), 0},
		{fixedNow.Add(72 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{fixedNow.Add(30 * time.Minute).Format(time.RFC850), 30 * time.Minute},
		{fixedNow.Add(time.Hour).Format(time.ANSIC), time.Hour},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, fixedNow); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	half := func() float64 { return 0.5 }
	low := func() float64 { return 0 }
	high := func() float64 { return 0.999999 }
	tests := []struct {
		name       string
		failures   int
		retryAfter time.Duration
		rnd        func() float64
		want       time.Duration
	}{
		{"no failure", 0, 0, half, 0},
		{"first", 1, 0, half, time.Minute},
		{"second", 2, 0, half, 2 * time.Minute},
		{"fifth", 5, 0, half, 16 * time.Minute},
		{"jitter low", 3, 0, low, time.Duration(float64(4*time.Minute) * 0.8)},
		{"capped", 12, 0, half, 6 * time.Hour},
		{"capped with high jitter", 12, 0, high, 6 * time.Hour},
		{"capped with low jitter", 12, 0, low, time.Duration(float64(6*time.Hour) * 0.8)},
		{"huge failures", 1 << 40, 0, half, 6 * time.Hour},
		{"negative failures", -3, 0, half, 0},
		{"retry-after shorter loses", 1, 10 * time.Second, half, time.Minute},
		{"retry-after longer wins", 1, 10 * time.Minute, half, 10 * time.Minute},
		{"retry-after over cap wins", 12, 12 * time.Hour, half, 12 * time.Hour},
		{"retry-after capped at 24h", 1, 72 * time.Hour, half, 24 * time.Hour},
		{"retry-after with no failure", 0, 5 * time.Minute, half, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := Backoff(tt.failures, tt.retryAfter, tt.rnd); got != tt.want {
			t.Errorf("%s: Backoff(%d, %v) = %v, want %v", tt.name, tt.failures, tt.retryAfter, got, tt.want)
		}
	}
	if got := Backoff(3, 0, func() float64 { return 0.999999 }); got <= 4*time.Minute || got > time.Duration(float64(4*time.Minute)*1.2) {
		t.Errorf("high jitter: %v", got)
	}
	for range 100 {
		if got := Backoff(4, 0, nil); got < time.Duration(float64(8*time.Minute)*0.8) || got > time.Duration(float64(8*time.Minute)*1.2) {
			t.Fatalf("default jitter out of ±20%%: %v", got)
		}
	}
}

// TestHostileFeedIsCapped: a 1 MB title is cut to story.TitleMax characters
// at a word, visibly ("…"), and of a feed with more than MaxItems items only
// the newest MaxItems are read, in feed order, while Items counts them all
// (issue 12, item 2).
func TestHostileFeedIsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Flood</title>`)
	b.WriteString(`<item><title>` + strings.Repeat("walrus ", 150_000) + `</title><guid>big</guid><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate></item>`)
	total := MaxItems + 500
	for i := 1; i < total; i++ {
		// Oldest first: the newest MaxItems are the last ones.
		fmt.Fprintf(&b, `<item><title>t%d</title><guid>g%d</guid><pubDate>%s</pubDate></item>`, i, i,
			fixedNow.Add(-time.Duration(total-i)*time.Minute).Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	srv := serve(t, feedHandler(b.String()))
	f := newTestFetcher(t, Options{MaxBody: 16 << 20})
	res, err := f.Fetch(t.Context(), Request{Name: "Flood", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != total || len(res.Stories) != MaxItems {
		t.Fatalf("items %d, stories %d; want %d, %d", res.Items, len(res.Stories), total, MaxItems)
	}
	if first, last := res.Stories[0].GUID, res.Stories[MaxItems-1].GUID; first != fmt.Sprintf("g%d", total-MaxItems) || last != fmt.Sprintf("g%d", total-1) {
		t.Errorf("kept %s … %s, want the newest in feed order", first, last)
	}
	big := parseOne(t, `<item><title>`+strings.Repeat("walrus ", 150_000)+`</title><guid>big</guid></item>`)
	if n := utf8.RuneCountInString(big.Title); n > story.TitleMax || n < story.TitleMax/2 || !strings.HasSuffix(big.Title, "walrus…") {
		t.Errorf("title of %d characters ending %q", n, big.Title[len(big.Title)-20:])
	}
}

// parseOne parses a feed of one RSS item.
func parseOne(t *testing.T, item string) story.Story {
	t.Helper()
	_, stories, _, err := parse([]byte(`<rss version="2.0"><channel><title>x</title>`+item+`</channel></rss>`), "", nil, Request{Name: "x"}, fixedNow)
	if err != nil || len(stories) != 1 {
		t.Fatalf("parse: %v, %d stories", err, len(stories))
	}
	return stories[0]
}

package bot_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// item is one entry of a test feed.
type item struct {
	GUID, Title, Link, Description string
	Published                      time.Time
}

// feedServer serves RSS feeds on 127.0.0.1 with ETag support, and counts
// full responses and 304s per path.
type feedServer struct {
	srv *httptest.Server

	mu          sync.Mutex
	feeds       map[string][]item
	raw         map[string]string // path → body served as is
	full        map[string]int
	notModified map[string]int
	conditional map[string]int // requests that carried If-None-Match
}

func newFeedServer(t *testing.T) *feedServer {
	t.Helper()
	fs := &feedServer{
		feeds: map[string][]item{}, raw: map[string]string{},
		full: map[string]int{}, notModified: map[string]int{}, conditional: map[string]int{},
	}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *feedServer) url(path string) string { return fs.srv.URL + path }

func (fs *feedServer) set(path string, items ...item) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.feeds[path] = items
}

func (fs *feedServer) add(path string, it item) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.feeds[path] = append(fs.feeds[path], it)
}

func (fs *feedServer) setRaw(path, body string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.raw[path] = body
}

func (fs *feedServer) counts(path string) (full, notModified, conditional int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.full[path], fs.notModified[path], fs.conditional[path]
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	body, ok := fs.raw[r.URL.Path]
	if !ok {
		items, found := fs.feeds[r.URL.Path]
		if !found {
			fs.mu.Unlock()
			http.NotFound(w, r)
			return
		}
		body = rss(r.URL.Path, items)
	}
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	if r.Header.Get("If-None-Match") != "" {
		fs.conditional[r.URL.Path]++
	}
	if r.Header.Get("If-None-Match") == etag {
		fs.notModified[r.URL.Path]++
		fs.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	fs.full[r.URL.Path]++
	fs.mu.Unlock()
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, body)
}

// rss renders an RSS 2.0 document.
func rss(title string, items []item) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>%s</title><link>https://example.com/</link><description>test</description>
`, html.EscapeString(title))
	for _, it := range items {
		fmt.Fprintf(&b, "<item><guid isPermaLink=\"false\">%s</guid><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate></item>\n",
			html.EscapeString(it.GUID), html.EscapeString(it.Title), html.EscapeString(it.Link),
			html.EscapeString(it.Description), it.Published.UTC().Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

// Package feedbench is the workload the bench programs share: feeds made
// of real headlines from the shared corpus, served on 127.0.0.1 in
// generations (new, changed, unchanged), and rules made of their words.
package feedbench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// Headline is a corpus story's title and summary.
type Headline struct{ Title, Summary string }

// ReadHeadlines reads the corpus (JSON Lines with title and summary).
func ReadHeadlines(path string) ([]Headline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Headline
	dec := json.NewDecoder(f)
	for dec.More() {
		var h struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
		}
		if err := dec.Decode(&h); err != nil {
			return nil, err
		}
		out = append(out, Headline{h.Title, h.Summary})
	}
	return out, nil
}

// Serve serves /feed/N on ln in generations: a request without a validator
// gets generation 0; a request carrying generation 0's ETag gets generation 1
// (as many new items); one carrying generation 1's ETag gets 304. Each
// generation has items items; headline h of the corpus recurs in several
// feeds, as syndicated stories do.
func Serve(ln net.Listener, hs []Headline, items int) error {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	etag := func(path string, gen int) string {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s#%d", path, gen)))
		return `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		gen := 0
		switch r.Header.Get("If-None-Match") {
		case etag(r.URL.Path, 0):
			gen = 1
		case etag(r.URL.Path, 1):
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag(r.URL.Path, gen))
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed %d</title><link>https://feeds.example/%d</link><description>bench</description>`, n, n)
		for i := range items {
			h := hs[((gen*7919+n)*items+i)%len(hs)]
			fmt.Fprintf(&b, `<item><guid>g%d-f%d-i%d</guid><title>%s</title><link>https://news.example/%d/%d/%d?utm_source=rss</link><description>%s</description><pubDate>%s</pubDate></item>`,
				gen, n, i, html.EscapeString(h.Title), gen, n, i, html.EscapeString(h.Summary), now.Add(time.Duration(gen)*time.Hour-time.Duration(i)*time.Minute).Format(time.RFC1123Z))
		}
		b.WriteString(`</channel></rss>`)
		io.WriteString(w, b.String())
	}))
}

// Rules builds n two-word rules from words of the headlines, notifying
// target.
func Rules(hs []Headline, n int, target string) []store.Rule {
	var rules []store.Rule
	for i := 0; len(rules) < n && i < len(hs); i++ {
		words := strings.FieldsFunc(strings.ToLower(hs[i].Title), func(r rune) bool { return r < 'a' || r > 'z' })
		var long []string
		for _, w := range words {
			if len(w) >= 5 {
				long = append(long, w)
			}
		}
		if len(long) < 2 {
			continue
		}
		rules = append(rules, store.Rule{
			Name: fmt.Sprintf("r%d", len(rules)), Query: long[0] + " " + long[1],
			Notify: []string{target}, Origin: store.OriginConfig,
		})
	}
	return rules
}
